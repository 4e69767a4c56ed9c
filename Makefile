# sipwarden — GNU Makefile. `make` builds ./sipwarden; `make test` installs what
# is missing, builds with ASan+UBSan (gcc) and clang, and runs every test.
# Sources are found by wildcard: lib/<module>/*.c form libsipwarden.a,
# src/*.c the program, tests/unit/test_*.c one test program each.

CC      ?= cc
PKGS    := openssl sqlite3 inih libpcap libsystemd libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -Iinclude -Ilib $(WARN) $(PKG_CFLAGS)
CFLAGS  ?= -O2 -g
# CPPFLAGS and LDFLAGS (empty unless given, e.g. by dpkg-buildflags in a
# package build) go to every compile and to the program's link.
LDLIBS  := $(PKG_LIBS) -lpthread -lm

SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

LIB_SRC  := $(sort $(wildcard lib/*/*.c))
APP_SRC  := $(sort $(wildcard src/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_HELPERS := $(sort $(wildcard tests/unit/helper_*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
HDRS     := $(wildcard include/sipwarden/*.h lib/*/*.h tests/unit/*.h)

# Variant: release (default), asan (gcc + sanitizers, what `make test` runs),
# clang (warnings with the other compiler), tsan (gcc + ThreadSanitizer, for
# the threaded parts), fuzz (clang + libFuzzer).
V ?= release
B := build/$(V)
ifeq ($(V),asan)
  VCC := gcc
  VFLAGS := -O1 -g $(SAN)
else ifeq ($(V),clang)
  VCC := clang
  VFLAGS := -O2 -g
else ifeq ($(V),tsan)
  VCC := gcc
  VFLAGS := -O1 -g -fsanitize=thread
else ifeq ($(V),fuzz)
  VCC := clang
  VFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
else
  VCC := $(CC)
  VFLAGS := $(CFLAGS)
endif

# the web page's files (lib/http/www) become a generated C file of the library
WWW      := $(sort $(wildcard lib/http/www/*))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o) $(B)/gen/http_assets.o
APP_OBJ  := $(APP_SRC:%.c=$(B)/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
HELPER_OBJ := $(TEST_HELPERS:%.c=$(B)/%.o)
LIBA     := $(B)/libsipwarden.a

.PHONY: all install uninstall run test deps variant-bin variant-tests tsan-bins clean fuzz bench check-clang
.DEFAULT_GOAL := all

all:
	@$(MAKE) --no-print-directory V=release variant-bin
	@cp build/release/sipwarden ./sipwarden.new && mv -f ./sipwarden.new ./sipwarden  # even while one runs

variant-bin: $(B)/sipwarden
variant-tests: $(B)/sipwarden $(TEST_BIN)
# ThreadSanitizer: the binary and the unit tests of what threads share
# (the store's group commit, the nonce-count tracker, the transaction table,
# the ban table, the per-source TCP connection count, the metrics' shards)
TSAN_TESTS := test_store test_nonce test_txn test_ban test_srclimit test_metrics
tsan-bins: $(B)/sipwarden $(TSAN_TESTS:%=$(B)/tests/%)

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC [$(V)] $<"
	@$(VCC) $(BASE_CFLAGS) $(CPPFLAGS) $(VFLAGS) -c $< -o $@

$(B)/gen/http_assets.c: $(WWW) scripts/embed-assets.sh
	@mkdir -p $(dir $@)
	@scripts/embed-assets.sh $@ $(WWW)
$(B)/gen/http_assets.o: $(B)/gen/http_assets.c $(HDRS)
	@echo "  CC [$(V)] $<"
	@$(VCC) $(BASE_CFLAGS) $(VFLAGS) -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	@ar rcs $@ $^

$(B)/sipwarden: $(APP_OBJ) $(LIBA)
	$(VCC) $(VFLAGS) $(LDFLAGS) -o $@ $(APP_OBJ) $(LIBA) $(LDLIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(HELPER_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(VCC) $(VFLAGS) -o $@ $< $(HELPER_OBJ) $(LIBA) $(LDLIBS) $(shell pkg-config --libs cmocka 2>/dev/null)

deps:
	@scripts/deps.sh

# `make install [PREFIX=/usr/local] [DESTDIR=]`: the binary, the man pages,
# the example configuration (never over an existing one) and the systemd unit
# (its /usr/local paths made $(PREFIX), its config path $(SYSCONFDIR)).
# SYSCONFDIR (default $(PREFIX)/etc) and SYSTEMDUNITDIR (default
# $(PREFIX)/lib/systemd/system) are what debian/rules sets to /etc and
# /lib/systemd/system. `make uninstall` with the same
# PREFIX/DESTDIR removes them, except a configuration that differs from the
# example (the administrator's): that one stays, and uninstall says so.
PREFIX  ?= /usr/local
BINDIR  := $(DESTDIR)$(PREFIX)/bin
MANDIR  := $(DESTDIR)$(PREFIX)/share/man
SYSCONFDIR ?= $(PREFIX)/etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
CONFDIR := $(DESTDIR)$(SYSCONFDIR)/sipwarden
UNITDIR := $(DESTDIR)$(SYSTEMDUNITDIR)
MAN1    := $(notdir $(wildcard man/*.1))
MAN5    := $(notdir $(wildcard man/*.5))
install: all
	install -d $(BINDIR) $(MANDIR)/man1 $(MANDIR)/man5 $(CONFDIR) $(UNITDIR)
	install -m 755 sipwarden $(BINDIR)/sipwarden
	install -m 644 $(addprefix man/,$(MAN1)) $(MANDIR)/man1
	install -m 644 $(addprefix man/,$(MAN5)) $(MANDIR)/man5
	@if [ -e $(CONFDIR)/sipwarden.conf ]; then \
		echo "install: keeping the existing $(CONFDIR)/sipwarden.conf"; \
	else \
		echo "install -m 644 etc/sipwarden.conf $(CONFDIR)/sipwarden.conf"; \
		install -m 644 etc/sipwarden.conf $(CONFDIR)/sipwarden.conf; \
	fi
	sed -e 's|/usr/local/etc/|$(SYSCONFDIR)/|g' -e 's|/usr/local/|$(PREFIX)/|g' etc/sipwarden.service > $(UNITDIR)/sipwarden.service
	chmod 644 $(UNITDIR)/sipwarden.service

uninstall:
	rm -f $(BINDIR)/sipwarden $(UNITDIR)/sipwarden.service
	rm -f $(addprefix $(MANDIR)/man1/,$(MAN1)) $(addprefix $(MANDIR)/man5/,$(MAN5))
	@if [ -e $(CONFDIR)/sipwarden.conf ] && ! cmp -s etc/sipwarden.conf $(CONFDIR)/sipwarden.conf; then \
		echo "uninstall: keeping $(CONFDIR)/sipwarden.conf (changed from the example)"; \
	else \
		echo "rm -f $(CONFDIR)/sipwarden.conf"; rm -f $(CONFDIR)/sipwarden.conf; \
		rmdir $(CONFDIR) 2>/dev/null || true; \
	fi

# `make run [DOMAIN=example.com] [ARGS="--listen udp:0.0.0.0:5060 ..."]`
DOMAIN ?= 127.0.0.1
run: deps all
	@echo "sipwarden: starting the registrar and proxy for domain $(DOMAIN) on 127.0.0.1:5060 (UDP and TCP), database ./var/sipwarden.db"
	@echo "  add a user:      ./sipwarden user add alice@$(DOMAIN) --db ./var/sipwarden.db"
	@echo "  point a phone:   SIP server / registrar $(DOMAIN), port 5060, user alice, password as set"
	@echo "  see why it fails: ./sipwarden why alice@$(DOMAIN) --db ./var/sipwarden.db"
	@mkdir -p var
	./sipwarden serve --domain $(DOMAIN) $(ARGS)

# The test run: sanitized gcc build, clang build, then every test.
test: deps
	@$(MAKE) --no-print-directory V=asan variant-tests
	@$(MAKE) --no-print-directory V=clang variant-tests
	@$(MAKE) --no-print-directory V=tsan tsan-bins
	@$(MAKE) --no-print-directory V=fuzz fuzz-bins
	@tests/run.sh

FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=$(B)/fuzz/%)
fuzz-bins: $(FUZZ_BIN)
$(B)/fuzz/%: $(B)/fuzz/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(VCC) $(VFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBA) $(LDLIBS)

# `make fuzz [FUZZ_SECONDS=N]`: every target for a bounded time.
FUZZ_SECONDS ?= 60
fuzz: deps
	@$(MAKE) --no-print-directory V=fuzz fuzz-bins
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz.sh

BENCH_BIN := $(BENCH_SRC:bench/%.c=build/release/bench/%)
# `make bench`: the micro-benchmarks, then the comparison with Kamailio
# (bench/compare-kamailio.sh --quick; the full table without --quick).
bench: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory V=release bench-bins
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done
	bench/compare-kamailio.sh --quick
bench-bins: $(BENCH_SRC:bench/%.c=$(B)/bench/%)
$(B)/bench/%: $(B)/bench/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(VCC) $(VFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

clean:
	rm -rf build sipwarden
