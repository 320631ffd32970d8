/*
 * libcurl and OpenSSL, loaded when the first HTTP target needs them: a
 * scan of TCP and ICMP targets never maps their forty libraries, which
 * would cost each run about 4.5 MiB.
 */
#ifndef PULSE_HTTP_DL_H
#define PULSE_HTTP_DL_H

/* Load them now (the supervisor does, before it forks); exits on failure. */
void http_dl_load(void);

#endif
