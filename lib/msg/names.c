/* Header names (long and compact forms), methods and reason phrases. */
#include <string.h>
#include <strings.h>
#include "scan.h"

struct hdr_name {
	const char *name;
	char compact;
	enum sw_hdr_id id;
	uint8_t len;
};

static const struct hdr_name hdr_names[] = {
	{ "Accept", 0, SW_HDR_ACCEPT, sizeof("Accept") - 1 },
	{ "Allow", 0, SW_HDR_ALLOW, sizeof("Allow") - 1 },
	{ "Allow-Events", 'u', SW_HDR_ALLOW_EVENTS, sizeof("Allow-Events") - 1 },
	{ "Authorization", 0, SW_HDR_AUTHORIZATION, sizeof("Authorization") - 1 },
	{ "Call-ID", 'i', SW_HDR_CALL_ID, sizeof("Call-ID") - 1 },
	{ "Contact", 'm', SW_HDR_CONTACT, sizeof("Contact") - 1 },
	{ "Content-Encoding", 'e', SW_HDR_CONTENT_ENCODING, sizeof("Content-Encoding") - 1 },
	{ "Content-Length", 'l', SW_HDR_CONTENT_LENGTH, sizeof("Content-Length") - 1 },
	{ "Content-Type", 'c', SW_HDR_CONTENT_TYPE, sizeof("Content-Type") - 1 },
	{ "CSeq", 0, SW_HDR_CSEQ, sizeof("CSeq") - 1 },
	{ "Date", 0, SW_HDR_DATE, sizeof("Date") - 1 },
	{ "Event", 'o', SW_HDR_EVENT, sizeof("Event") - 1 },
	{ "Expires", 0, SW_HDR_EXPIRES, sizeof("Expires") - 1 },
	{ "From", 'f', SW_HDR_FROM, sizeof("From") - 1 },
	{ "Max-Forwards", 0, SW_HDR_MAX_FORWARDS, sizeof("Max-Forwards") - 1 },
	{ "Min-Expires", 0, SW_HDR_MIN_EXPIRES, sizeof("Min-Expires") - 1 },
	{ "Path", 0, SW_HDR_PATH, sizeof("Path") - 1 },
	{ "Proxy-Authenticate", 0, SW_HDR_PROXY_AUTHENTICATE, sizeof("Proxy-Authenticate") - 1 },
	{ "Proxy-Authorization", 0, SW_HDR_PROXY_AUTHORIZATION, sizeof("Proxy-Authorization") - 1 },
	{ "Proxy-Require", 0, SW_HDR_PROXY_REQUIRE, sizeof("Proxy-Require") - 1 },
	{ "Record-Route", 0, SW_HDR_RECORD_ROUTE, sizeof("Record-Route") - 1 },
	{ "Refer-To", 'r', SW_HDR_REFER_TO, sizeof("Refer-To") - 1 },
	{ "Require", 0, SW_HDR_REQUIRE, sizeof("Require") - 1 },
	{ "Retry-After", 0, SW_HDR_RETRY_AFTER, sizeof("Retry-After") - 1 },
	{ "Route", 0, SW_HDR_ROUTE, sizeof("Route") - 1 },
	{ "Server", 0, SW_HDR_SERVER, sizeof("Server") - 1 },
	{ "Subject", 's', SW_HDR_SUBJECT, sizeof("Subject") - 1 },
	{ "Supported", 'k', SW_HDR_SUPPORTED, sizeof("Supported") - 1 },
	{ "To", 't', SW_HDR_TO, sizeof("To") - 1 },
	{ "Unsupported", 0, SW_HDR_UNSUPPORTED, sizeof("Unsupported") - 1 },
	{ "User-Agent", 0, SW_HDR_USER_AGENT, sizeof("User-Agent") - 1 },
	{ "Via", 'v', SW_HDR_VIA, sizeof("Via") - 1 },
	{ "Warning", 0, SW_HDR_WARNING, sizeof("Warning") - 1 },
	{ "WWW-Authenticate", 0, SW_HDR_WWW_AUTHENTICATE, sizeof("WWW-Authenticate") - 1 },
};
#define N_HDR_NAMES (sizeof(hdr_names) / sizeof(hdr_names[0]))

enum sw_hdr_id sw_hdr_lookup(const char *name, size_t len)
{
	if (len == 1) {
		char c = (char)(name[0] | 0x20);
		for (size_t i = 0; i < N_HDR_NAMES; i++)
			if (hdr_names[i].compact == c)
				return hdr_names[i].id;
		return SW_HDR_OTHER;
	}
	/* Generated from hdr_names[]: the length, then the first letter, pick the
	 * one candidate to compare; this runs once per header line. */
#define IS(lit, id) \
	if (sw_mem_ieq(name, lit, len)) \
		return id; \
	break
	switch (len) {
	case 2:
		switch (name[0] | 0x20) {
		case 't':
			IS("To", SW_HDR_TO);
		}
		break;
	case 3:
		switch (name[0] | 0x20) {
		case 'v':
			IS("Via", SW_HDR_VIA);
		}
		break;
	case 4:
		switch (name[0] | 0x20) {
		case 'c':
			IS("CSeq", SW_HDR_CSEQ);
		case 'd':
			IS("Date", SW_HDR_DATE);
		case 'f':
			IS("From", SW_HDR_FROM);
		case 'p':
			IS("Path", SW_HDR_PATH);
		}
		break;
	case 5:
		switch (name[0] | 0x20) {
		case 'a':
			IS("Allow", SW_HDR_ALLOW);
		case 'e':
			IS("Event", SW_HDR_EVENT);
		case 'r':
			IS("Route", SW_HDR_ROUTE);
		}
		break;
	case 6:
		switch (name[0] | 0x20) {
		case 'a':
			IS("Accept", SW_HDR_ACCEPT);
		case 's':
			IS("Server", SW_HDR_SERVER);
		}
		break;
	case 7:
		switch (name[0] | 0x20) {
		case 'c':
			if (sw_mem_ieq(name, "Call-ID", len))
				return SW_HDR_CALL_ID;
			IS("Contact", SW_HDR_CONTACT);
		case 'e':
			IS("Expires", SW_HDR_EXPIRES);
		case 'r':
			IS("Require", SW_HDR_REQUIRE);
		case 's':
			IS("Subject", SW_HDR_SUBJECT);
		case 'w':
			IS("Warning", SW_HDR_WARNING);
		}
		break;
	case 8:
		switch (name[0] | 0x20) {
		case 'r':
			IS("Refer-To", SW_HDR_REFER_TO);
		}
		break;
	case 9:
		switch (name[0] | 0x20) {
		case 's':
			IS("Supported", SW_HDR_SUPPORTED);
		}
		break;
	case 10:
		switch (name[0] | 0x20) {
		case 'u':
			IS("User-Agent", SW_HDR_USER_AGENT);
		}
		break;
	case 11:
		switch (name[0] | 0x20) {
		case 'm':
			IS("Min-Expires", SW_HDR_MIN_EXPIRES);
		case 'r':
			IS("Retry-After", SW_HDR_RETRY_AFTER);
		case 'u':
			IS("Unsupported", SW_HDR_UNSUPPORTED);
		}
		break;
	case 12:
		switch (name[0] | 0x20) {
		case 'a':
			IS("Allow-Events", SW_HDR_ALLOW_EVENTS);
		case 'c':
			IS("Content-Type", SW_HDR_CONTENT_TYPE);
		case 'm':
			IS("Max-Forwards", SW_HDR_MAX_FORWARDS);
		case 'r':
			IS("Record-Route", SW_HDR_RECORD_ROUTE);
		}
		break;
	case 13:
		switch (name[0] | 0x20) {
		case 'a':
			IS("Authorization", SW_HDR_AUTHORIZATION);
		case 'p':
			IS("Proxy-Require", SW_HDR_PROXY_REQUIRE);
		}
		break;
	case 14:
		switch (name[0] | 0x20) {
		case 'c':
			IS("Content-Length", SW_HDR_CONTENT_LENGTH);
		}
		break;
	case 16:
		switch (name[0] | 0x20) {
		case 'c':
			IS("Content-Encoding", SW_HDR_CONTENT_ENCODING);
		case 'w':
			IS("WWW-Authenticate", SW_HDR_WWW_AUTHENTICATE);
		}
		break;
	case 18:
		switch (name[0] | 0x20) {
		case 'p':
			IS("Proxy-Authenticate", SW_HDR_PROXY_AUTHENTICATE);
		}
		break;
	case 19:
		switch (name[0] | 0x20) {
		case 'p':
			IS("Proxy-Authorization", SW_HDR_PROXY_AUTHORIZATION);
		}
		break;
	}
#undef IS
	return SW_HDR_OTHER;
}

const char *sw_hdr_name(enum sw_hdr_id id)
{
	for (size_t i = 0; i < N_HDR_NAMES; i++)
		if (hdr_names[i].id == id)
			return hdr_names[i].name;
	return NULL;
}

static const struct {
	const char *name;
	enum sw_method id;
} methods[] = {
	{ "ACK", SW_METHOD_ACK },         { "BYE", SW_METHOD_BYE },
	{ "CANCEL", SW_METHOD_CANCEL },   { "INFO", SW_METHOD_INFO },
	{ "INVITE", SW_METHOD_INVITE },   { "MESSAGE", SW_METHOD_MESSAGE },
	{ "NOTIFY", SW_METHOD_NOTIFY },   { "OPTIONS", SW_METHOD_OPTIONS },
	{ "PRACK", SW_METHOD_PRACK },     { "PUBLISH", SW_METHOD_PUBLISH },
	{ "REFER", SW_METHOD_REFER },     { "REGISTER", SW_METHOD_REGISTER },
	{ "SUBSCRIBE", SW_METHOD_SUBSCRIBE }, { "UPDATE", SW_METHOD_UPDATE },
};

/* Methods are case-sensitive (RFC 3261 §7.1). */
enum sw_method sw_method_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i].name) == len && !memcmp(methods[i].name, name, len))
			return methods[i].id;
	return SW_METHOD_OTHER;
}

const char *sw_reason_phrase(unsigned status)
{
	switch (status) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 181: return "Call Is Being Forwarded";
	case 182: return "Queued";
	case 183: return "Session Progress";
	case 200: return "OK";
	case 202: return "Accepted";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Moved Temporarily";
	case 305: return "Use Proxy";
	case 380: return "Alternative Service";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 413: return "Request Entity Too Large";
	case 414: return "Request-URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Unsupported URI Scheme";
	case 420: return "Bad Extension";
	case 421: return "Extension Required";
	case 423: return "Interval Too Brief";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 484: return "Address Incomplete";
	case 485: return "Ambiguous";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 491: return "Request Pending";
	case 493: return "Undecipherable";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 505: return "Version Not Supported";
	case 513: return "Message Too Large";
	case 600: return "Busy Everywhere";
	case 603: return "Decline";
	case 604: return "Does Not Exist Anywhere";
	case 606: return "Not Acceptable";
	}
	if (status >= 100 && status < 700) {
		static const char *const cls[] = { "Provisional", "OK", "Redirection",
						   "Client Error", "Server Error", "Global Failure" };
		return cls[status / 100 - 1];
	}
	return "Unknown";
}
