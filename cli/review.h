/*
 * review.h - the review commands, one file each: `redirc diff` (diff.c),
 * `redirc verify` (verify.c), `redirc coverage` (coverage.c).  Each takes
 * argv with argv[0] the command name and returns the exit status.
 */
#ifndef RC_CLI_REVIEW_H
#define RC_CLI_REVIEW_H

int cli_diff(int argc, char **argv);
int cli_verify(int argc, char **argv);
int cli_coverage(int argc, char **argv);

#endif /* RC_CLI_REVIEW_H */
