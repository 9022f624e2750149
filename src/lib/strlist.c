#include "internal.h"

#include <errno.h>
#include <string.h>

int al_strlist_add(struct al_strlist *l, const char *s)
{
	char *dup = strdup(s);
	if (!dup)
		return -1;
	char **nv = realloc(l->v, (l->n + 2) * sizeof *nv);
	if (!nv) {
		free(dup);
		return -1;
	}
	nv[l->n++] = dup;
	nv[l->n] = NULL;
	l->v = nv;
	return 0;
}

void al_strlist_clear(struct al_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int al_strlist_copy(struct al_strlist *dst, const struct al_strlist *src)
{
	dst->v = NULL;
	dst->n = 0;
	for (size_t i = 0; i < src->n; i++)
		if (al_strlist_add(dst, src->v[i]) < 0) {
			al_strlist_clear(dst);
			return -1;
		}
	return 0;
}

bool al_strlist_contains(const struct al_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}
