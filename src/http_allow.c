/* /probe's allowlist inside libcurl: at connect, and at each redirect. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "allowlist.h"
#include "http_allow.h"
#include "util.h"

/*
 * libcurl's own lookup has happened, for the first host or a redirect's:
 * this is the address itself, so a name that resolves somewhere it should
 * not (or changes its answer) cannot slip through.
 */
static curl_socket_t
on_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct http_seen *seen = arg;
	char text[INET6_ADDRSTRLEN] = "?";
	const void *bytes = NULL;
	int fd;

	(void)purpose;
	if (!allowlist_addr_ok(seen->allow, &a->addr)) {
		if (a->family == AF_INET)
			bytes =
			    &((struct sockaddr_in *)(void *)&a->addr)->sin_addr;
		else if (a->family == AF_INET6)
			bytes = &((struct sockaddr_in6 *)(void *)&a->addr)
			             ->sin6_addr;
		if (bytes != NULL)
			inet_ntop(a->family, bytes, text, sizeof(text));
		snprintf(seen->denied, sizeof(seen->denied),
		    "address %s is outside the allowlist", text);
		seen->last_denied = true;
		return CURL_SOCKET_BAD;
	}
	seen->last_denied = false;
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	return fd == -1 ? CURL_SOCKET_BAD : fd;
}

void
http_allow_connections(CURL *easy, struct http_seen *seen)
{
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open);
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, seen);
}

/* The host of location, taken relative to the URL answered; NULL if bad. */
static char *
redirect_host(CURL *easy, const char *location)
{
	char *here = NULL, *host = NULL;
	CURLU *u;

	if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &here) !=
	        CURLE_OK ||
	    here == NULL || (u = curl_url()) == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, here, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, location, CURLU_ALLOW_SPACE) !=
	        CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		host = NULL;
	curl_url_cleanup(u);
	return host;
}

bool
http_allow_redirect(CURL *easy, struct http_seen *seen, const char *value,
    size_t len)
{
	char *location, *host, *h;
	size_t n;
	bool ok;

	while (len > 0 && (*value == ' ' || *value == '\t')) {
		value++;
		len--;
	}
	while (len > 0 &&
	    (value[len - 1] == '\r' || value[len - 1] == '\n' ||
	        value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	location = xmalloc(len + 1);
	memcpy(location, value, len);
	location[len] = '\0';
	host = redirect_host(easy, location);
	free(location);
	if (host == NULL) {
		snprintf(seen->denied, sizeof(seen->denied),
		    "a redirect to a Location that does not parse");
		return false;
	}
	/* "[::1]" is ::1; "[fe80::1%25eth0]" keeps no zone. */
	h = host;
	n = strlen(h);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		h[n - 1] = '\0';
		h++;
		h[strcspn(h, "%")] = '\0';
	}
	if (!(ok = allowlist_host_ok(seen->allow, h)))
		snprintf(seen->denied, sizeof(seen->denied),
		    "redirect to %.80s is outside the allowlist", h);
	curl_free(host);
	return ok;
}
