/* parallel: the only place that talks to the OpenMP runtime and to
 * OpenBLAS's thread count.  Everything builds and runs without -fopenmp. */
#ifndef SN_CORE_PARALLEL_H
#define SN_CORE_PARALLEL_H

/* Elementwise passes go parallel above this many values (below it, starting
 * the threads costs more than the pass). */
#define SN_ELEMWISE_PAR 32768

/* Use n threads (n >= 1) for our loops and for OpenBLAS, at most
 * sn_parallel_thread_limit(); OpenMP may not give fewer than asked
 * (OMP_DYNAMIC is turned off). */
void sn_parallel_set_threads(int n);

/* The most threads OpenMP runs in a parallel region: OMP_THREAD_LIMIT's,
 * 1 under OMP_MAX_ACTIVE_LEVELS=0 (INT_MAX without OpenMP).  OpenBLAS's
 * OpenMP build splits a product over the threads it asks for and spins
 * until each part is done: with fewer threads given it never ends. */
int sn_parallel_thread_limit(void);

/* Threads get stacks of the stack limit's size (ulimit -s: glibc's default
 * for pthreads, and so OpenMP's), and OpenBLAS's kernels crashed in threads
 * of 64 KiB.  Raises a soft limit below SN_PARALLEL_MIN_STACK to it, for
 * this thread and for the threads started later; 0 done or nothing to do,
 * -1 when the hard limit is lower (*hard_kib: it, *soft_kib: the soft one). */
#define SN_PARALLEL_MIN_STACK (1 << 20)
int sn_parallel_widen_stack(unsigned long long *soft_kib, unsigned long long *hard_kib);

/* Tasks (threads, processes) this process's cgroup and the ones above it
 * may still start: the least of pids.max less pids.current, cgroup v1's
 * pids controller or v2's; INT_MAX where none sets a limit (*limit: that
 * cgroup's pids.max, else -1).  A batch system's or a container's limit,
 * which libgomp met as "Thread creation failed" (round 68 F5). */
int sn_parallel_task_room(long *limit);

/* Our loops only, not OpenBLAS: what n threads need can be sized (info)
 * without OpenBLAS mapping its buffers for them, 128 MiB a thread, which
 * under an address-space limit it retries forever. */
void sn_parallel_set_loop_threads(int n);

/* Threads our parallel loops will use (1 without OpenMP). */
int sn_parallel_threads(void);

/* The calling thread's number inside a parallel region, 0 .. threads-1
 * (0 outside one, and without OpenMP). */
int sn_parallel_thread_id(void);

/* Cores this process may run on (sched_getaffinity, else sysconf). */
int sn_parallel_cores(void);

/* The cores of sn_parallel_cores as bits of words (bit c % 64 of word
 * c / 64 for core c; cores past words * 64 are left out): its count, or 0
 * when this process's cores cannot be named (then no bit is set). */
#define SN_PARALLEL_MASK_WORDS 16
int sn_parallel_core_mask(unsigned long long bits[SN_PARALLEL_MASK_WORDS]);

/* Seconds the cores this process may run on have been busy since boot,
 * every process's work counted (/proc/stat; idle and I/O wait are not
 * busy); 0 where that cannot be read. */
double sn_parallel_cores_busy_s(void);

#endif
