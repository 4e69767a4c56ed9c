/* sipwarden — the version string. */
#ifndef SIPWARDEN_VERSION_H
#define SIPWARDEN_VERSION_H
#define SIPWARDEN_VERSION "0.1.0"
#endif
