/* The causes table: data only. Every auth decision, doctor finding and
 * analyzer verdict names one of these rows. Ids are stable: never rename
 * one, never reuse one; add new rows at the end of enum sw_cause. */
#include <string.h>
#include "sipwarden/causes.h"

#define S SW_OBS_SERVER
#define D SW_OBS_DOCTOR
#define A SW_OBS_ANALYZER

/* Rows are indexed by enum sw_cause (designated initializers keep the two in
 * step; test_causes checks that no row is missing). */
static const struct sw_cause_info table[SW_CAUSE__COUNT] = {
	[SW_CAUSE_OK] = { SW_CAUSE_OK, "ok", SW_SEV_INFO, S | D | A,
		"The device proved it knows the password; it is authenticated.",
		SW_FIX_NONE, "Nothing to do." },
	[SW_CAUSE_NO_CREDENTIALS] = { SW_CAUSE_NO_CREDENTIALS, "no-credentials", SW_SEV_INFO, S | D | A,
		"The request carried no credentials, so the server asked for them; this is the normal first step.",
		SW_FIX_NONE, "Nothing to do, unless the device never answers the challenge (see challenge-not-answered)." },
	[SW_CAUSE_CHALLENGE_NOT_ANSWERED] = { SW_CAUSE_CHALLENGE_NOT_ANSWERED, "challenge-not-answered", SW_SEV_ERROR, S | D | A,
		"The server asked the device for its password and the device never tried again.",
		SW_FIX_VERIFY_CREDENTIALS, "Give the device a password and check that authentication is enabled in its account settings." },
	[SW_CAUSE_WRONG_PASSWORD] = { SW_CAUSE_WRONG_PASSWORD, "wrong-password", SW_SEV_ERROR, S | A,
		"Everything in the answer is consistent, but it was computed with a different password.",
		SW_FIX_VERIFY_CREDENTIALS, "Re-enter the password on the device and on the server (watch for spaces and look-alike characters)." },
	[SW_CAUSE_CREDENTIALS_REJECTED] = { SW_CAUSE_CREDENTIALS_REJECTED, "credentials-rejected", SW_SEV_ERROR, D | A,
		"The server challenged a well-formed answer again: wrong password, wrong auth username, or a refusal for the server's own reasons.",
		SW_FIX_VERIFY_CREDENTIALS, "Check the auth username and password; if they are right, ask the provider why it refuses them." },
	[SW_CAUSE_UNKNOWN_USER] = { SW_CAUSE_UNKNOWN_USER, "unknown-user", SW_SEV_ERROR, S,
		"The auth username the device sent does not exist on this server (the device is not told this).",
		SW_FIX_VERIFY_CREDENTIALS, "Create the account, or correct the auth username (auth ID) on the device." },
	[SW_CAUSE_AUTH_USER_MISMATCH] = { SW_CAUSE_AUTH_USER_MISMATCH, "auth-user-mismatch", SW_SEV_ERROR, S | A,
		"The auth username is valid but is not allowed to register this phone number or address.",
		SW_FIX_VERIFY_CREDENTIALS, "Set the device's auth ID and user/extension fields to the pair provisioned on the server." },
	[SW_CAUSE_USERNAME_HAS_DOMAIN] = { SW_CAUSE_USERNAME_HAS_DOMAIN, "username-has-domain", SW_SEV_ERROR, S | A,
		"The device sent its username with the domain attached (user@domain) where only the user was expected.",
		SW_FIX_VERIFY_CREDENTIALS, "Remove the @domain part from the device's auth username, or provision the account with that exact username." },
	[SW_CAUSE_REALM_MISMATCH] = { SW_CAUSE_REALM_MISMATCH, "realm-mismatch", SW_SEV_ERROR, S | A,
		"The device answered for a different realm than the one the server asked about.",
		SW_FIX_VERIFY_CREDENTIALS, "Clear the hard-coded realm on the device so it uses the realm from the challenge." },
	[SW_CAUSE_URI_MISMATCH] = { SW_CAUSE_URI_MISMATCH, "uri-mismatch", SW_SEV_ERROR, S | A,
		"The address inside the credentials differs from the address the request was sent to.",
		SW_FIX_CHECK_NETWORK, "Disable the router's SIP ALG or proxy that rewrites the request, or update the device firmware." },
	[SW_CAUSE_STALE_NONCE] = { SW_CAUSE_STALE_NONCE, "stale-nonce", SW_SEV_INFO, S | D | A,
		"The password was right but the one-time challenge it answered had expired; the device was told to retry.",
		SW_FIX_REFRESH_CREDENTIALS, "None if the device retries with the new challenge; otherwise update its firmware." },
	[SW_CAUSE_NONCE_INVALID] = { SW_CAUSE_NONCE_INVALID, "nonce-invalid", SW_SEV_WARNING, S | A,
		"The device answered a challenge this service never issued (other server, other cluster, or garbage).",
		SW_FIX_CHECK_NETWORK, "Share the nonce secret across all servers, or make the device send its retry to the same server." },
	[SW_CAUSE_NONCE_REPLAY] = { SW_CAUSE_NONCE_REPLAY, "nonce-replay", SW_SEV_ERROR, S | A,
		"An answer was reused: the request counter did not increase or a one-time challenge came back twice.",
		SW_FIX_ASK_PROVIDER, "Update the device firmware; if the device is not at fault, someone is replaying captured requests." },
	[SW_CAUSE_ALGORITHM_UNSUPPORTED] = { SW_CAUSE_ALGORITHM_UNSUPPORTED, "algorithm-unsupported", SW_SEV_ERROR, S | D | A,
		"The device used a hash algorithm the server did not offer.",
		SW_FIX_ASK_PROVIDER, "Enable that algorithm on the server or update the device so it uses one the server offers." },
	[SW_CAUSE_ALGORITHM_MISMATCH] = { SW_CAUSE_ALGORITHM_MISMATCH, "algorithm-mismatch", SW_SEV_ERROR, S | A,
		"The device answered a challenge for one algorithm using another one.",
		SW_FIX_ASK_PROVIDER, "Update the device firmware; repeated cases may be a downgrade attempt." },
	[SW_CAUSE_QOP_INVALID] = { SW_CAUSE_QOP_INVALID, "qop-invalid", SW_SEV_ERROR, S | A,
		"The protection fields of the answer (qop, nonce count, client nonce) are missing or malformed.",
		SW_FIX_ASK_PROVIDER, "Update the device firmware or ask its vendor; this is a client bug." },
	[SW_CAUSE_MALFORMED_AUTHORIZATION] = { SW_CAUSE_MALFORMED_AUTHORIZATION, "malformed-authorization", SW_SEV_ERROR, S | A,
		"The device's credentials header could not be read at all.",
		SW_FIX_ASK_PROVIDER, "Update the device firmware or ask its vendor; the server answers 400 with the reason." },
	[SW_CAUSE_ACCOUNT_DISABLED] = { SW_CAUSE_ACCOUNT_DISABLED, "account-disabled", SW_SEV_ERROR, S,
		"The account exists but has been switched off.",
		SW_FIX_VERIFY_CREDENTIALS, "Re-enable the account on the server if the device should register." },
	[SW_CAUSE_SOURCE_BANNED] = { SW_CAUSE_SOURCE_BANNED, "source-banned", SW_SEV_ERROR, S | D,
		"The device's network address was blocked after too many failed attempts.",
		SW_FIX_VERIFY_CREDENTIALS, "Fix the device that keeps failing, then lift the ban on its address." },
	[SW_CAUSE_DOMAIN_UNKNOWN] = { SW_CAUSE_DOMAIN_UNKNOWN, "domain-unknown", SW_SEV_ERROR, S | D | A,
		"The request was for a domain this server does not serve.",
		SW_FIX_VERIFY_CREDENTIALS, "Set the device's domain (and outbound proxy) to the one the server serves." },
	[SW_CAUSE_EXPIRES_TOO_BRIEF] = { SW_CAUSE_EXPIRES_TOO_BRIEF, "expires-too-brief", SW_SEV_WARNING, S | D | A,
		"The device asked to stay registered for less time than the server allows (423 Interval Too Brief).",
		SW_FIX_REGISTRATION_INTERVAL, "Raise the device's registration interval to at least the server's Min-Expires." },
	[SW_CAUSE_TOO_MANY_CONTACTS] = { SW_CAUSE_TOO_MANY_CONTACTS, "too-many-contacts", SW_SEV_ERROR, S | D | A,
		"The account already has as many registered devices as it is allowed.",
		SW_FIX_REGISTRATION_INTERVAL, "Remove stale registrations or shorten the registration interval so old ones expire sooner." },
	[SW_CAUSE_NO_RESPONSE] = { SW_CAUSE_NO_RESPONSE, "no-response", SW_SEV_ERROR, D | A,
		"Nothing came back from the server.",
		SW_FIX_CHECK_NETWORK, "Check the firewall, the route and the server's address and port." },
	[SW_CAUSE_UDP_BLOCKED_TCP_OK] = { SW_CAUSE_UDP_BLOCKED_TCP_OK, "udp-blocked-tcp-ok", SW_SEV_ERROR, D,
		"The server answers over TCP but requests over UDP get no answer.",
		SW_FIX_CHECK_NETWORK, "Open UDP port 5060 in the firewall, or switch the device to TCP." },
	[SW_CAUSE_TLS_FAILED] = { SW_CAUSE_TLS_FAILED, "tls-failed", SW_SEV_ERROR, D | A,
		"The encrypted connection could not be set up (handshake or certificate failure).",
		SW_FIX_CHECK_NETWORK, "Fix the server certificate or add its issuer to the device's trusted certificates." },
	[SW_CAUSE_DNS_FAILED] = { SW_CAUSE_DNS_FAILED, "dns-failed", SW_SEV_ERROR, D,
		"The server name could not be resolved to an address.",
		SW_FIX_CHECK_NETWORK, "Fix the DNS records (SRV/A) or configure the device with the server's IP address." },
	[SW_CAUSE_RESPONSE_LOST_NAT] = { SW_CAUSE_RESPONSE_LOST_NAT, "response-lost-nat", SW_SEV_ERROR, S | D | A,
		"The server answered to a port the device never hears, because a NAT changed it.",
		SW_FIX_CHECK_NETWORK, "Enable rport on the device and keep-alives shorter than the NAT timeout." },
	[SW_CAUSE_NAT_DETECTED] = { SW_CAUSE_NAT_DETECTED, "nat-detected", SW_SEV_WARNING, S | D | A,
		"The device sits behind a NAT: the server sees a different address than the device announces.",
		SW_FIX_REGISTRATION_INTERVAL, "Use keep-alives or a registration interval shorter than the NAT's timeout." },
	[SW_CAUSE_SIP_ALG_SUSPECTED] = { SW_CAUSE_SIP_ALG_SUSPECTED, "sip-alg-suspected", SW_SEV_WARNING, S | D | A,
		"Something on the way (usually the router's SIP ALG) rewrote the request's headers.",
		SW_FIX_CHECK_NETWORK, "Disable SIP ALG (a.k.a. SIP helper/fixup) on the router." },
	[SW_CAUSE_UDP_FRAGMENTATION] = { SW_CAUSE_UDP_FRAGMENTATION, "udp-fragmentation", SW_SEV_ERROR, D | A,
		"Large requests are lost over UDP while small ones get through.",
		SW_FIX_CHECK_NETWORK, "Use TCP or TLS, or trim headers so requests fit in one packet." },
	[SW_CAUSE_RETRY_OTHER_SERVER] = { SW_CAUSE_RETRY_OTHER_SERVER, "retry-other-server", SW_SEV_WARNING, D | A,
		"The device's answer to a challenge went to a different server than the one that challenged it.",
		SW_FIX_ASK_PROVIDER, "Pin retries to one server, or have the provider share the nonce secret between servers." },
	[SW_CAUSE_REFUSED_AFTER_VALID_DIGEST] = { SW_CAUSE_REFUSED_AFTER_VALID_DIGEST, "refused-after-valid-digest", SW_SEV_ERROR, D | A,
		"The credentials are correct, yet the server still refuses (401/403) for a reason of its own.",
		SW_FIX_ASK_PROVIDER, "Ask the provider: an access list, a ban or an account limit refuses the device." },
	[SW_CAUSE_STALE_WITHOUT_FLAG] = { SW_CAUSE_STALE_WITHOUT_FLAG, "stale-without-flag", SW_SEV_WARNING, D | A,
		"The server rejected an expired challenge without saying it was only stale.",
		SW_FIX_ASK_PROVIDER, "A server bug: the device should retry once with the new challenge; ask the provider to send stale=true." },
	[SW_CAUSE_STORE_UNAVAILABLE] = { SW_CAUSE_STORE_UNAVAILABLE, "store-unavailable", SW_SEV_ERROR, S,
		"The server could not read its account database, so it could not check the password.",
		SW_FIX_ASK_PROVIDER, "Check the server's store (disk, database or Redis connection) and its log." },
	[SW_CAUSE_SERVER_ERROR] = { SW_CAUSE_SERVER_ERROR, "server-error", SW_SEV_ERROR, D | A,
		"The server answered with a 5xx error: it, or a server behind it (database, next hop), failed or is overloaded; the credentials were not judged.",
		SW_FIX_ASK_PROVIDER, "Report the status line and reason to the provider and retry after the time it gives (Retry-After); nothing is wrong on the device." },
	[SW_CAUSE_CALLEE_UNKNOWN] = { SW_CAUSE_CALLEE_UNKNOWN, "callee-unknown", SW_SEV_WARNING, S,
		"The called user does not exist on this server. The caller was told 480 Temporarily Unavailable, the same answer as for a user who exists but is offline, so that calls cannot be used to find out which users exist.",
		SW_FIX_VERIFY_CREDENTIALS, "Check the number or name that was dialled, or create the account if the callee should exist." },
	[SW_CAUSE_CALLEE_OFFLINE] = { SW_CAUSE_CALLEE_OFFLINE, "callee-offline", SW_SEV_WARNING, S,
		"The called user exists but no device of theirs is registered now, so there is nowhere to send the call (480 Temporarily Unavailable).",
		SW_FIX_CHECK_NETWORK, "The callee's phone must register: check that it is on, has the right password (see 'sipwarden why' for the callee) and re-registers before its registration expires." },
	[SW_CAUSE_FROM_NOT_ALLOWED] = { SW_CAUSE_FROM_NOT_ALLOWED, "from-not-allowed", SW_SEV_ERROR, S,
		"The caller authenticated as one user but the From header names another: a device may only call as the account it authenticates with (403).",
		SW_FIX_VERIFY_CREDENTIALS, "Set the device's user name and authentication ID to the same account, or give it the account it presents in From." },
	[SW_CAUSE_RELAY_DENIED] = { SW_CAUSE_RELAY_DENIED, "relay-denied", SW_SEV_ERROR, S,
		"The request was for a domain this server does not serve, and this server does not relay to other domains (403 Not relaying).",
		SW_FIX_ASK_PROVIDER, "Call users of this server's domains, or send calls for other domains through the provider's own outbound proxy or trunk." },
	[SW_CAUSE_TOO_MANY_HOPS] = { SW_CAUSE_TOO_MANY_HOPS, "too-many-hops", SW_SEV_ERROR, S,
		"The request arrived with Max-Forwards 0: it has already passed through as many proxies as its sender allowed, which usually means a routing loop between servers (483 Too Many Hops).",
		SW_FIX_ASK_PROVIDER, "Look for two servers that forward to each other (outbound proxy, trunk or forwarding rules pointing back)." },
	[SW_CAUSE_LOOP_DETECTED] = { SW_CAUSE_LOOP_DETECTED, "loop-detected", SW_SEV_ERROR, S,
		"The request came back to this server with a Via of its own and the same target: it is going round in a loop (482 Loop Detected).",
		SW_FIX_ASK_PROVIDER, "Find the route or forwarding rule that sends requests back here (a Contact or trunk that points at this server)." },
	[SW_CAUSE_CALLEE_UNREACHABLE] = { SW_CAUSE_CALLEE_UNREACHABLE, "callee-unreachable", SW_SEV_WARNING, S,
		"The callee's registered device did not answer at the address it registered from: the connection is gone, the port is closed, or nothing came back in time (Timer B/F).",
		SW_FIX_CHECK_NETWORK, "The phone is off or behind a NAT that closed its mapping: shorten its registration interval or enable keep-alives (CRLF or OPTIONS) below the NAT timeout." },
	[SW_CAUSE_REQUEST_REFUSED] = { SW_CAUSE_REQUEST_REFUSED, "request-refused", SW_SEV_ERROR, D | A,
		"The server refused the request with a final error that is not about the password (the status line says which, e.g. 404 Not Found, 480, 486, 403 Not relaying).",
		SW_FIX_ASK_PROVIDER, "Read the status line: check the number or address called and the account's permissions; ask the provider if it is not clear." },
	[SW_CAUSE_REQUEST_CANCELLED] = { SW_CAUSE_REQUEST_CANCELLED, "request-cancelled", SW_SEV_INFO, D | A,
		"The caller cancelled the request before it was answered (487 Request Terminated).",
		SW_FIX_NONE, "Nothing to do, unless calls are cancelled that nobody hung up (then check the device's call timers)." },
	[SW_CAUSE_DUPLICATE_RESPONSE] = { SW_CAUSE_DUPLICATE_RESPONSE, "duplicate-response", SW_SEV_WARNING, A,
		"The server (or a proxy in between) sent more final responses than the device sent copies of the request.",
		SW_FIX_ASK_PROVIDER, "Look for two servers or a looping proxy answering the same request; a device may act on the wrong answer." },
	[SW_CAUSE_CALLEE_NO_ANSWER] = { SW_CAUSE_CALLEE_NO_ANSWER, "callee-no-answer", SW_SEV_INFO, S,
		"The callee's phone rang but nobody answered before the server's ring limit (Timer C): the caller got 408 and the phone a CANCEL.",
		SW_FIX_NONE, "Nothing is broken: the callee did not pick up. Raise [proxy] timer_c if calls should ring longer, or set up voicemail or forwarding on no answer." },
	[SW_CAUSE_SERVER_OVERLOADED] = { SW_CAUSE_SERVER_OVERLOADED, "server-overloaded", SW_SEV_WARNING, S,
		"The server had more new requests than it could take and answered this one 503 Service Unavailable with Retry-After, so that the device tries again later.",
		SW_FIX_NONE, "Nothing if the device retries after the time it was given; if it happens often, give the server more CPU (workers) or spread the devices' registration times." },
	[SW_CAUSE_CALLEE_BUSY] = { SW_CAUSE_CALLEE_BUSY, "callee-busy", SW_SEV_INFO, S | A,
		"The call reached the called party, who was busy (486 Busy Here, 600 Busy Everywhere): the request got through, and its credentials, if any, were accepted.",
		SW_FIX_NONE, "Nothing is broken: call again later, or set up call waiting or forwarding on busy for the callee." },
	[SW_CAUSE_CALLEE_DECLINED] = { SW_CAUSE_CALLEE_DECLINED, "callee-declined", SW_SEV_INFO, S | A,
		"The call reached the called party, who declined it (603 Decline, 607 Unwanted): the request got through, and its credentials, if any, were accepted.",
		SW_FIX_NONE, "Nothing is broken: the callee (or their phone's rules, e.g. do-not-disturb or a block list) refused the call." },
};


#undef S
#undef D
#undef A

const struct sw_cause_info *sw_cause_get(enum sw_cause c)
{
	if ((unsigned)c >= SW_CAUSE__COUNT || !table[c].id)
		return NULL;
	return &table[c];
}

const char *sw_cause_id(enum sw_cause c)
{
	const struct sw_cause_info *ci = sw_cause_get(c);
	return ci ? ci->id : "unknown";
}

int sw_cause_find(sw_str id, enum sw_cause *out)
{
	if (!id.p)
		return SW_ENOTFOUND;
	for (unsigned i = 0; i < SW_CAUSE__COUNT; i++) {
		if (table[i].id && sw_str_eq(id, table[i].id)) {
			*out = (enum sw_cause)i;
			return 0;
		}
	}
	return SW_ENOTFOUND;
}

const char *sw_severity_name(enum sw_severity s)
{
	switch (s) {
	case SW_SEV_INFO: return "info";
	case SW_SEV_WARNING: return "warning";
	case SW_SEV_ERROR: return "error";
	}
	return "unknown";
}

static const char *const fix_ids[SW_FIX__COUNT] = {
	"none", "verify-credentials", "refresh-credentials", "check-network",
	"fix-registration-interval", "ask-provider",
};
static const char *const fix_titles[SW_FIX__COUNT] = {
	"No action", "Verify credentials", "Refresh credentials", "Check the network",
	"Fix the registration interval", "Ask the provider",
};

const char *sw_fix_class_id(enum sw_fix_class f)
{
	return (unsigned)f < SW_FIX__COUNT ? fix_ids[f] : "unknown";
}

const char *sw_fix_class_title(enum sw_fix_class f)
{
	return (unsigned)f < SW_FIX__COUNT ? fix_titles[f] : "Unknown";
}

void sw_observers_render(struct sw_buf *b, unsigned observers, const char *sep)
{
	static const char *const names[] = { "server", "doctor", "analyzer" };
	bool first = true;
	for (unsigned i = 0; i < 3; i++) {
		if (!(observers & (1u << i)))
			continue;
		if (!first)
			sw_buf_adds(b, sep);
		sw_buf_adds(b, names[i]);
		first = false;
	}
}
