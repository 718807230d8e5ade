// SPDX-License-Identifier: MIT
// Service-manager notifications (systemd's sd_notify protocol): readiness,
// reloads and stopping, for units of Type=notify. Built without libsystemd
// (-DGH_SYSTEMD=OFF) every call does nothing.
#include <stdio.h>
#include <time.h>

#if defined(GH_HAVE_SYSTEMD)
#include <systemd/sd-daemon.h>
#endif

#include "server/server.h"

void
server_notify(enum server_state state, const char *status)
{
#if defined(GH_HAVE_SYSTEMD)
    char msg[512];
    struct timespec ts;

    switch (state) {
    case SERVER_READY:
        snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
        break;
    case SERVER_RELOADING:
        /* MONOTONIC_USEC lets systemd >= 253 match the reload to its request. */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=%s",
                 (unsigned long long)ts.tv_sec * 1000000ull +
                     (unsigned long long)ts.tv_nsec / 1000ull,
                 status);
        break;
    case SERVER_STOPPING:
        snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=%s", status);
        break;
    default:
        snprintf(msg, sizeof(msg), "STATUS=%s", status);
        break;
    }
    /* Without NOTIFY_SOCKET this returns 0; a failure to notify is not the
     * server's failure (systemd times the start out by itself). */
    (void)sd_notify(0, msg);
#else
    (void)state;
    (void)status;
#endif
}
