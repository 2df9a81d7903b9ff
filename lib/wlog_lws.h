/*
 * wlog_lws — routes libwebsockets' own log lines into wlog. Kept apart
 * from wlog.c so libwrg (and wrg.fcgi, which links it) does not depend on
 * libwebsockets; it lives in libwrg_lws with the other lws-bound code
 * that wrg-wsproxy and the sample runtime share.
 */
#ifndef WRG_WLOG_LWS_H
#define WRG_WLOG_LWS_H

/* Routes lws' log lines into wlog (at WARN and above unless wlog's
 * max_level is DEBUG). Call after wlog_init. */
void wlog_lws_route(void);

#endif
