/* sim: what the simulator's own files share (bench/sim).
 *
 * The replay (replay.c) runs under SimGrid's SMPI, which provides MPI.
 * nbc.c replaces a few of SMPI's calls, through the MPI profiling
 * interface, by models of what Open MPI 4.1 does; simalloc.c puts large
 * buffers in SMPI's shared memory.  sim holds their settings; the replay
 * fills it in before its first MPI call.
 */
#ifndef SN_BENCH_SIM_SIM_H
#define SN_BENCH_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>

/* The platforms' unit of host speed: one core of the machine the profiles
 * were measured on computes 1e9 "flops" a second (speed="1Gf"), so a
 * measured second is 1e9 flops and a host of speed="2Gf" does it in half. */
#define SIM_REF_FLOPS 1e9

struct sim_cfg {
    /* MPI_Iallreduce's schedule, as Open MPI's MCA parameter
     * coll_libnbc_iallreduce_algorithm: 0 libnbc's own choice, 1 ring,
     * 2 binomial, 3 Rabenseifner (reduce-scatter + allgather) */
    int algorithm;
    double op_s;          /* seconds to add one float into another, on the reference core */
    double copy_s;        /* seconds to copy one float */
    bool values;          /* compute the sums (else only their time: shared buffers) */
    size_t shared_above;  /* buffers of this many bytes and more go to shared memory (0: none) */
};

extern struct sim_cfg sim;

/* Keep this rank busy for seconds of the reference core's time. */
void sim_busy(double seconds);

/* A buffer of bytes, in SMPI's shared memory from sim.shared_above on;
 * free it with free() (smpicc routes it to smpi_shared_free). */
void *sim_alloc(size_t bytes);

/* From now on, messages of sim.shared_above bytes and more carry no
 * bytes unless sim.values (call after MPI_Init). */
void sim_skip_large_copies(void);

/* The schedule MPI_Iallreduce takes for count floats on P ranks:
 * "binomial", "ring" or "rabenseifner". */
const char *sim_nbc_algorithm_name(int count, int P, bool in_place);

#endif
