/* sd_notify(3) messages of `sipwarden serve`: see notify.h. sd_notify()
 * itself returns 0 without NOTIFY_SOCKET, so nothing here needs a test of
 * its own for the case without systemd. */
#include <inttypes.h>
#include <stdint.h>
#include <time.h>
#include <systemd/sd-daemon.h>
#include "notify.h"

static uint64_t watchdog_usec; /* 0: no watchdog */
static uint64_t last_ping;     /* CLOCK_MONOTONIC, microseconds */

static uint64_t monotonic_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void notify_ready(void)
{
	sd_notify(0, "READY=1");
}

void notify_reloading(void)
{
	/* systemd 253+ wants the time of the reload to tell it from an older
	 * one; older versions ignore the field */
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, monotonic_usec());
}

void notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void notify_watchdog_init(void)
{
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) > 0)
		watchdog_usec = usec;
}

void notify_watchdog(void)
{
	if (!watchdog_usec)
		return;
	uint64_t now = monotonic_usec();
	if (last_ping && now - last_ping < watchdog_usec / 2)
		return;
	sd_notify(0, "WATCHDOG=1");
	last_ping = now;
}
