/* eigh: eigenvalues and eigenvectors of a small symmetric matrix, in
 * double precision (what torch.linalg.eigh computes).
 *
 * sn_eigh is LAPACK's dsyevd (the LAPACK that Debian's OpenBLAS carries,
 * src/core/blas_openblas.c) in builds with BLAS, and the Jacobi method of
 * sn_eigh_jacobi otherwise (src/core/blas_none.c).  sn_eigh_jacobi is in
 * every build, for its tests and for builds without BLAS.
 *
 * Legend: n the matrix side; a is n x n, row-major, symmetric (both
 * triangles hold the matrix).  On return w[0..n) holds the eigenvalues in
 * ascending order and row j of a the unit eigenvector of w[j].  An
 * eigenvector's sign is whatever the method gives (callers that need one
 * choose it).
 */
#ifndef SN_CORE_EIGH_H
#define SN_CORE_EIGH_H

/* The decomposition of a, with LAPACK where the build has it.  SN_ENUM if
 * the method fails (a non-finite matrix, no convergence), SN_ENOMEM. */
int sn_eigh(int n, double *a, double *w);

/* The same by cyclic-by-row Jacobi rotations (Golub & Van Loan, Matrix
 * Computations, section 8.5), swept until the off-diagonal part's norm is
 * below 1e-15 of the matrix's (or zero); SN_ENUM after 100 sweeps without
 * that. */
int sn_eigh_jacobi(int n, double *a, double *w);

#endif
