/* SPDX-License-Identifier: MIT */
/*
 * tools/config/xlcfg.c - a lexer and recursive-descent parser for the
 * xl.cfg syntax (xlcfg.h). Input is untrusted bytes with a length: any
 * truncation or corruption ends in a message naming the line, never in a
 * read past the end.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xlcfg.h"

enum tok {
	T_EOF, T_NEWLINE, T_SEMI, T_EQUALS, T_LBRACKET, T_RBRACKET, T_COMMA,
	T_IDENT, T_STRING, T_NUMBER, T_ERROR,
};

struct lexer {
	const char *file;
	const char *p, *end;
	int line;
	enum tok tok;			/* the current token */
	char *text;			/* its text (IDENT, STRING, NUMBER), malloc'd */
	int tok_line;
	char *err;
	size_t errlen;
	bool failed;
};

static void fail(struct lexer *lx, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (lx->failed) {
		return;		/* the first error is the one to report */
	}
	lx->failed = true;
	n = snprintf(lx->err, lx->errlen, "%s:%d: ", lx->file, line);
	if (n >= 0 && (size_t)n < lx->errlen) {
		va_start(ap, fmt);
		vsnprintf(lx->err + n, lx->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static char *dup_range(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static char escape(char c)
{
	switch (c) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case '\\': case '\'': case '"': return c;
	default: return 0;
	}
}

/* A quoted string from lx->p (at the quote); the token text is unescaped. */
static enum tok lex_string(struct lexer *lx)
{
	char quote = *lx->p++;
	char *out = malloc((size_t)(lx->end - lx->p) + 1);
	size_t n = 0;

	if (!out) {
		fail(lx, lx->line, "out of memory");
		return T_ERROR;
	}
	while (lx->p < lx->end && *lx->p != quote && *lx->p != '\n') {
		char c = *lx->p++;

		if (c == '\\') {
			if (lx->p >= lx->end || !escape(*lx->p)) {
				fail(lx, lx->line, "unknown escape in string");
				free(out);
				return T_ERROR;
			}
			c = escape(*lx->p++);
		}
		out[n++] = c;
	}
	if (lx->p >= lx->end || *lx->p != quote) {
		fail(lx, lx->line, "string not closed (missing %c)", quote);
		free(out);
		return T_ERROR;
	}
	lx->p++;
	out[n] = 0;
	lx->text = out;
	return T_STRING;
}

/* A run of characters (identifier or number) starting at lx->p. */
static enum tok lex_word(struct lexer *lx, enum tok kind)
{
	const char *s = lx->p;

	while (lx->p < lx->end && is_ident(*lx->p)) {
		lx->p++;
	}
	lx->text = dup_range(s, (size_t)(lx->p - s));
	if (!lx->text) {
		fail(lx, lx->line, "out of memory");
		return T_ERROR;
	}
	return kind;
}

static void skip_blanks_and_comments(struct lexer *lx)
{
	while (lx->p < lx->end) {
		if (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r') {
			lx->p++;
		} else if (*lx->p == '#') {
			while (lx->p < lx->end && *lx->p != '\n') {
				lx->p++;
			}
		} else {
			break;
		}
	}
}

static enum tok lex_next(struct lexer *lx)
{
	char c;

	free(lx->text);
	lx->text = NULL;
	skip_blanks_and_comments(lx);
	lx->tok_line = lx->line;
	if (lx->p >= lx->end) {
		return lx->tok = T_EOF;
	}
	c = *lx->p;
	switch (c) {
	case '\n': lx->p++; lx->line++; return lx->tok = T_NEWLINE;
	case ';': lx->p++; return lx->tok = T_SEMI;
	case '=': lx->p++; return lx->tok = T_EQUALS;
	case '[': lx->p++; return lx->tok = T_LBRACKET;
	case ']': lx->p++; return lx->tok = T_RBRACKET;
	case ',': lx->p++; return lx->tok = T_COMMA;
	case '"': case '\'': return lx->tok = lex_string(lx);
	default: break;
	}
	if (is_ident_start(c)) {
		return lx->tok = lex_word(lx, T_IDENT);
	}
	if (c >= '0' && c <= '9') {
		return lx->tok = lex_word(lx, T_NUMBER);
	}
	if (c == 0) {
		fail(lx, lx->line, "NUL byte (not a text file?)");
	} else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) {
		fail(lx, lx->line, "unexpected byte 0x%02x", (unsigned char)c);
	} else {
		fail(lx, lx->line, "unexpected '%c'", c);
	}
	return lx->tok = T_ERROR;
}

static void skip_newlines(struct lexer *lx)
{
	while (lx->tok == T_NEWLINE) {
		lex_next(lx);
	}
}

static int add_item(struct xlcfg_setting *s, enum xlcfg_kind kind, char *text, int line)
{
	struct xlcfg_item *items = realloc(s->items, (s->nitems + 1) * sizeof(*items));

	if (!items) {
		return -1;
	}
	s->items = items;
	items[s->nitems++] = (struct xlcfg_item){ kind, text, line };
	return 0;
}

/* [ item, item, ... ] with newlines anywhere between and a trailing comma allowed. */
static int parse_list(struct lexer *lx, struct xlcfg_setting *s)
{
	int opened = lx->tok_line;

	s->kind = XLCFG_LIST;
	lex_next(lx);
	for (;;) {
		skip_newlines(lx);
		if (lx->tok == T_RBRACKET) {
			lex_next(lx);
			return 0;
		}
		if (lx->tok == T_STRING || lx->tok == T_NUMBER) {
			enum xlcfg_kind k = lx->tok == T_STRING ? XLCFG_STRING : XLCFG_NUMBER;

			if (add_item(s, k, lx->text, lx->tok_line) != 0) {
				fail(lx, lx->tok_line, "out of memory");
				return -1;
			}
			lx->text = NULL;	/* the item owns it now */
			lex_next(lx);
			skip_newlines(lx);
			if (lx->tok == T_COMMA) {
				lex_next(lx);
				continue;
			}
			if (lx->tok == T_RBRACKET) {
				continue;
			}
		}
		if (lx->tok == T_EOF) {
			fail(lx, opened, "list of '%s' not closed (missing ']')", s->key);
		} else if (lx->tok == T_LBRACKET) {
			fail(lx, lx->tok_line, "'%s': lists inside lists are not supported", s->key);
		} else if (lx->tok != T_ERROR) {
			fail(lx, lx->tok_line, "'%s': expected a string or number, ',' or ']' in the list",
			     s->key);
		}
		return -1;
	}
}

static int parse_value(struct lexer *lx, struct xlcfg_setting *s)
{
	switch (lx->tok) {
	case T_STRING:
	case T_NUMBER:
		s->kind = lx->tok == T_STRING ? XLCFG_STRING : XLCFG_NUMBER;
		s->text = lx->text;
		lx->text = NULL;
		lex_next(lx);
		return 0;
	case T_LBRACKET:
		return parse_list(lx, s);
	case T_ERROR:
		return -1;
	case T_IDENT:
		fail(lx, lx->tok_line, "'%s': value '%s' must be quoted", s->key, lx->text);
		return -1;
	default:
		fail(lx, lx->tok_line, "'%s': value missing", s->key);
		return -1;
	}
}

static void free_setting(struct xlcfg_setting *s)
{
	free(s->key);
	free(s->text);
	for (size_t i = 0; i < s->nitems; i++) {
		free(s->items[i].text);
	}
	free(s->items);
}

/* KEY = VALUE, ended by a newline, ';' or the end. */
static int parse_setting(struct lexer *lx, struct xlcfg *cfg)
{
	struct xlcfg_setting s = { .key = lx->text, .line = lx->tok_line };
	struct xlcfg_setting *grown;

	lx->text = NULL;
	lex_next(lx);
	if (lx->tok != T_EQUALS) {
		if (lx->tok != T_ERROR) {
			fail(lx, s.line, "expected '=' after '%s'", s.key);
		}
		free_setting(&s);
		return -1;
	}
	lex_next(lx);
	if (parse_value(lx, &s) != 0) {
		free_setting(&s);
		return -1;
	}
	if (lx->tok != T_NEWLINE && lx->tok != T_SEMI && lx->tok != T_EOF) {
		if (lx->tok != T_ERROR) {
			fail(lx, lx->tok_line, "'%s': unexpected text after the value", s.key);
		}
		free_setting(&s);
		return -1;
	}
	grown = realloc(cfg->settings, (cfg->n + 1) * sizeof(*grown));
	if (!grown) {
		fail(lx, s.line, "out of memory");
		free_setting(&s);
		return -1;
	}
	cfg->settings = grown;
	cfg->settings[cfg->n++] = s;
	return 0;
}

int xlcfg_parse(const char *file, const char *text, size_t len, struct xlcfg *out, char *err,
		size_t errlen)
{
	struct lexer lx = {
		.file = file, .p = text, .end = text + len, .line = 1, .err = err, .errlen = errlen,
	};
	int rc = 0;

	memset(out, 0, sizeof(*out));
	lex_next(&lx);
	while (rc == 0 && lx.tok != T_EOF) {
		if (lx.tok == T_NEWLINE || lx.tok == T_SEMI) {
			lex_next(&lx);
		} else if (lx.tok == T_IDENT) {
			rc = parse_setting(&lx, out);
		} else {
			if (lx.tok != T_ERROR) {
				fail(&lx, lx.tok_line, "expected a setting (KEY = VALUE)");
			}
			rc = -1;
		}
	}
	free(lx.text);
	if (rc != 0) {
		xlcfg_free(out);
	}
	return rc;
}

void xlcfg_free(struct xlcfg *cfg)
{
	for (size_t i = 0; i < cfg->n; i++) {
		free_setting(&cfg->settings[i]);
	}
	free(cfg->settings);
	cfg->settings = NULL;
	cfg->n = 0;
}
