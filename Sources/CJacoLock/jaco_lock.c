#include "jaco_lock.h"

#include <sched.h>
#include <time.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

// Spins before sleeping: the cache's verifies hold the lock for tens of nanoseconds.
static const int spins = 128;

void jaco_lock_wait(void *lock) {
    jaco_lock_state *state = (jaco_lock_state *)lock;
    for (int i = 0; i < spins; i++) {
        if (atomic_load_explicit(&state->locked, memory_order_relaxed) == 0
            && atomic_exchange_explicit(&state->locked, 1, memory_order_acquire) == 0) {
            return;
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    for (;;) {
        atomic_fetch_add_explicit(&state->sleepers, 1, memory_order_seq_cst);
        if (atomic_exchange_explicit(&state->locked, 1, memory_order_seq_cst) == 0) {
            atomic_fetch_sub_explicit(&state->sleepers, 1, memory_order_relaxed);
            return;
        }
        // The release reads the sleeper count without a fence after its store, so it can miss
        // a sleeper that registered just then; the timeout bounds such a missed wake-up to 1 ms
        // (the futex itself refuses to sleep once the store is visible).
#if defined(__linux__)
        struct timespec timeout = {0, 1000000};
        syscall(SYS_futex, &state->locked, FUTEX_WAIT_PRIVATE, 1, &timeout, NULL, 0);
#else
        sched_yield();
#endif
        atomic_fetch_sub_explicit(&state->sleepers, 1, memory_order_relaxed);
    }
}

void jaco_lock_wake(void *lock) {
#if defined(__linux__)
    jaco_lock_state *state = (jaco_lock_state *)lock;
    syscall(SYS_futex, &state->locked, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
#else
    (void)lock;
#endif
}
