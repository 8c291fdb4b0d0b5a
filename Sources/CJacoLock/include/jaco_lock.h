// A lock for data read far more often than written (the verification cache): acquiring is one
// atomic exchange and releasing one plain store (plus a load of the sleeper count), where a
// futex-backed mutex pays an atomic read-modify-write on each side. Waiters spin briefly, then
// sleep on a futex; see jaco_lock.c for why a sleep has a timeout.
#ifndef JACO_LOCK_H
#define JACO_LOCK_H

#include <stdatomic.h>
#include <stdint.h>

/// The lock's state: 8 bytes, zero when free and nobody sleeps. Swift holds it as raw memory.
typedef struct {
    _Atomic uint32_t locked;
    _Atomic uint32_t sleepers;
} jaco_lock_state;

/// Bytes of a lock (for the caller's zeroed, 4-byte-aligned allocation).
static const int jaco_lock_size = sizeof(jaco_lock_state);

/// The slow path of acquiring: spins, then sleeps until the lock is taken.
void jaco_lock_wait(void *lock);

/// Wakes one sleeper after a release.
void jaco_lock_wake(void *lock);

/// Takes the lock.
static inline void jaco_lock_acquire(void *lock) {
    jaco_lock_state *state = (jaco_lock_state *)lock;
    if (atomic_exchange_explicit(&state->locked, 1, memory_order_acquire) != 0) jaco_lock_wait(lock);
}

/// Releases the lock, waking a sleeper when there is one.
static inline void jaco_lock_release(void *lock) {
    jaco_lock_state *state = (jaco_lock_state *)lock;
    atomic_store_explicit(&state->locked, 0, memory_order_release);
    if (atomic_load_explicit(&state->sleepers, memory_order_relaxed) != 0) jaco_lock_wake(lock);
}

#endif
