/*
 * lws_names — prints the strings this libwebsockets build's header
 * lexer knows (lws_token_to_string), one per line, skipping the empty
 * one and "\r\n". tests/integration/hdrgate.sh makes its list of header
 * names that trap the lexer from them.
 */
#include <stdio.h>
#include <string.h>

#include <libwebsockets.h>

int
main(void)
{
	for (int i = 0; i < (int)WSI_TOKEN_COUNT; i++) {
		const char *s = (const char *)lws_token_to_string(
		    (enum lws_token_indexes)i);

		if (s && *s && !strpbrk(s, "\r\n"))
			printf("%s\n", s);
	}
	return 0;
}
