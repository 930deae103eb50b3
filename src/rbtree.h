/*
 * Red-black trees from libbsd's <sys/tree.h>.  Its RB_GENERATE_STATIC
 * marks the functions with __unused, which libbsd leaves undefined on Linux
 * (Debian #522773), so the static variant is spelt out here.
 */
#ifndef PORTGATE_RBTREE_H
#define PORTGATE_RBTREE_H

#include <sys/tree.h>

#define PG_RB_GENERATE_STATIC(name, type, field, cmp)			\
	RB_PROTOTYPE_INTERNAL(name, type, field, cmp,			\
	    __attribute__((__unused__)) static)				\
	RB_GENERATE_INTERNAL(name, type, field, cmp,			\
	    __attribute__((__unused__)) static)

#endif
