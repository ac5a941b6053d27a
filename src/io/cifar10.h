/* cifar10: the official CIFAR-10 binary batches (Krizhevsky 2009):
 * data_batch_1.bin .. data_batch_5.bin (training) and test_batch.bin, each a
 * sequence of 3073-byte records: 1 label byte (0..9), then 32x32 red, green
 * and blue planes (already C,H,W).  Class names come from
 * batches.meta.txt when it is there. */
#ifndef SN_IO_CIFAR10_H
#define SN_IO_CIFAR10_H

#include <stddef.h>

#include "io/folder.h"

/* Read the batches under dir into train and test (image sets as for
 * folders).  SN_EINVAL naming a missing batch, a size that is not a whole
 * number of records, or a label above 9. */
int sn_cifar10_read(const char *dir, struct sn_folder *train, struct sn_folder *test);

/* The path of file i of the SN_CIFAR10_FILES under dir that
 * sn_cifar10_read reads: data_batch_1.bin .. data_batch_5.bin (0-4),
 * test_batch.bin (5), batches.meta.txt (6).  SN_EUSAGE if it is too long. */
enum { SN_CIFAR10_FILES = 7 };
int sn_cifar10_file(const char *dir, int i, char *path, size_t len);

#endif
