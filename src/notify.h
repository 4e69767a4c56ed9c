/* Readiness and liveness for a service manager (systemd's sd_notify(3)).
 * Every function does nothing when NOTIFY_SOCKET is not set, i.e. when
 * `sipwarden serve` is not run by systemd as Type=notify. */
#ifndef SIPWARDEN_NOTIFY_H
#define SIPWARDEN_NOTIFY_H

/* READY=1: listening and the store is open (again, after a reload). */
void notify_ready(void);
/* RELOADING=1 with MONOTONIC_USEC=<now>: a SIGHUP reload starts. */
void notify_reloading(void);
/* STOPPING=1: a stop has begun. */
void notify_stopping(void);
/* Reads WATCHDOG_USEC (sd_watchdog_enabled(3)); call once, before the
 * thread that calls notify_watchdog() starts. */
void notify_watchdog_init(void);
/* WATCHDOG=1 when half the watchdog interval has passed since the last one;
 * nothing when the service manager set no WatchdogSec. Call it often (at
 * least every quarter of the interval) from one thread. */
void notify_watchdog(void);

#endif
