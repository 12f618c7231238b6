/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The files a run writes (the stream on stdout or -o, --perfetto, --report),
 * every write checked. A regular file is written to a temporary beside it
 * and renamed over it at the end, so FILE is either what it was before or
 * the whole new output, never half of one. Devices, pipes, FIFOs, symbolic
 * links and mount points are written in place (a regular file there is
 * truncated at the first write, once tracing runs). A reader that went away
 * (EPIPE) is told apart from a write that failed.
 */
#ifndef PL_OUTFILE_H
#define PL_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

enum pl_out_state {
	PL_OUT_OK,
	PL_OUT_READER_GONE, /* EPIPE, or a hung-up terminal: end quietly */
	PL_OUT_FAILED,	    /* a write failed: one line said, exit 1 */
};

struct pl_outfile {
	FILE *f;	  /* what the sinks write to */
	int fd;		  /* f's descriptor */
	int err;	  /* the first errno a write or close met, 0 if none */
	bool is_tty;	  /* EIO there means the terminal hung up */
	bool trunc_later; /* in place, a regular file: truncated at the first write */
	const char *name; /* for messages: the path as given, or "stdout" */
	char *tmp;	  /* the temporary beside the file, or NULL when in place */
	char *dest;	  /* what tmp becomes at the end */
};

/*
 * Creates the temporary for path (or opens it in place, truncating nothing
 * yet). 0, or -1 after one line on stderr.
 */
int pl_outfile_open(struct pl_outfile *o, const char *path);
/* The stream on stdout. 0, or -1 after one line on stderr. */
int pl_outfile_stdout(struct pl_outfile *o);
/* Whether o writes to the same file as stdout (the stream there). */
bool pl_outfile_is_stdout(const struct pl_outfile *o);
/* Flushes, then says how o stands. Never blocks on a reader. */
enum pl_out_state pl_outfile_state(struct pl_outfile *o);
/*
 * Flushes and closes o; a temporary becomes FILE. Says one line on stderr
 * for PL_OUT_FAILED (the temporary is removed, FILE left as it was).
 */
enum pl_out_state pl_outfile_finish(struct pl_outfile *o);
/* Closes o and removes its temporary: the run did not get to write it. */
void pl_outfile_discard(struct pl_outfile *o);

#endif
