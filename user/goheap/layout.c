// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <stdlib.h>
#include "goheap/layout.h"

/*
 * Go 1.19 (Debian's golang-go): mheap begins with lock (8 bytes) and a
 * uint32 pad, so pages is at 16. Go 1.24 dropped the pad: pages at 8.
 * pageAlloc begins with summary [5][]pallocSum (120 bytes), so chunks is
 * at 120 and the fields after its 64 KiB follow. Both checked against the
 * DWARF of real binaries (tests/unit/test_goheap.c).
 */
static const struct pl_go_layout layouts[] = {
    {1, 19, 16, 120, 65664, 65672, 65680, 65704, 128, 64, 16},
    {1, 24, 8, 120, 65664, 65672, 65680, 65704, 128, 64, 16},
};

static int parse_number(const char **s, int *out)
{
	long v = 0;

	if (!isdigit((unsigned char)**s))
		return -1;
	while (isdigit((unsigned char)**s)) {
		v = v * 10 + (**s - '0');
		if (v > 1000)
			return -1;
		(*s)++;
	}
	*out = (int)v;
	return 0;
}

int pl_go_parse_version(const char *s, int *major, int *minor)
{
	if (s[0] != 'g' || s[1] != 'o')
		return -1;
	s += 2;
	if (parse_number(&s, major) || *s++ != '.' || parse_number(&s, minor))
		return -1;
	return 0;
}

const struct pl_go_layout *pl_go_layout_for(int major, int minor)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].major == major && layouts[i].minor == minor)
			return &layouts[i];
	return NULL;
}

const char *pl_go_layouts_known(void)
{
	return "1.19, 1.24";
}
