/* CBLAS entry points of scipy-openblas32, loaded lazily with dlopen (see _linalg.pyx).
 * Only the function-pointer types live here; nothing is linked at build time. */
#ifndef RT_BLAS_H
#define RT_BLAS_H
#include <dlfcn.h>
#include <stdlib.h>

enum { RT_ROW_MAJOR = 101, RT_NO_TRANS = 111, RT_TRANS = 112 };

typedef void (*rt_sgemm_t)(int order, int ta, int tb, int m, int n, int k, float alpha,
                           const float *a, int lda, const float *b, int ldb, float beta,
                           float *c, int ldc);
typedef void (*rt_dgemm_t)(int order, int ta, int tb, int m, int n, int k, double alpha,
                           const double *a, int lda, const double *b, int ldb, double beta,
                           double *c, int ldc);
/* complex: alpha and beta by pointer */
typedef void (*rt_cgemm_t)(int order, int ta, int tb, int m, int n, int k, const void *alpha,
                           const void *a, int lda, const void *b, int ldb, const void *beta,
                           void *c, int ldc);
typedef float (*rt_sdot_t)(int n, const float *x, int incx, const float *y, int incy);
typedef void (*rt_sgemv_t)(int order, int trans, int m, int n, float alpha, const float *a,
                           int lda, const float *x, int incx, float beta, float *y, int incy);
typedef void (*rt_dgemv_t)(int order, int trans, int m, int n, double alpha, const double *a,
                           int lda, const double *x, int incx, double beta, double *y, int incy);
typedef double (*rt_ddot_t)(int n, const double *x, int incx, const double *y, int incy);
typedef void (*rt_cdot_sub_t)(int n, const void *x, int incx, const void *y, int incy, void *ret);
typedef void (*rt_set_threads_t)(int n);
#endif
