/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A real software TPM for tests: swtpm (socket mode, TPM 2.0) on free
 * local TCP ports, its state in a directory of the test's choosing, so that
 * stopping and starting it again with the same directory is a power cycle
 * of the same device, and another directory is another device.
 *
 * swtpm serves one client connection at a time: close one ESYS context (or
 * rot backend) before opening the next.
 *
 * Every swtpm started here is killed when the test program exits (atexit)
 * and, through PR_SET_PDEATHSIG, when it dies by a signal. The shell
 * equivalent for integration tests is tests/integration/swtpm.sh. */

#include <stdbool.h>
#include <sys/types.h>

#define TEST_SWTPM_TCTI_MAX 64

typedef struct test_swtpm {
        pid_t pid;                      /* 0 when stopped */
        int port;                       /* commands; port + 1 is the control channel */
        char tcti[TEST_SWTPM_TCTI_MAX]; /* "swtpm:host=127.0.0.1,port=<port>" */
} test_swtpm;

/* True if swtpm is on PATH. Tests that need it call test_swtpm_require()
 * in main() first. */
bool test_swtpm_available(void);

/* Exits 77 (skipped) with "swtpm not installed: scripts/install-deps
 * installs it" when swtpm is missing. */
void test_swtpm_require(void);

/* Starts swtpm with its state in state_dir (created if missing; a state
 * already there is kept) and waits until it accepts connections. Fails the
 * test on error. */
void test_swtpm_start(test_swtpm *t, const char *state_dir);

/* Stops it (SIGTERM, then waits for it). Safe on a stopped one. */
void test_swtpm_stop(test_swtpm *t);
