/* cnn/cnn.h - the one header a host program includes.
 *
 * cnn is a C library for convolutional neural networks on CPUs and NVIDIA
 * GPUs. See docs/ for guides; each header below documents its calls:
 * ownership, statuses, asynchrony and thread safety.
 */
#ifndef CNN_CNN_H
#define CNN_CNN_H

#include "export.h"
#include "status.h"
#include "device.h"
#include "tensor.h"
#include "ops.h"
#include "conv.h"
#include "pool.h"
#include "norm.h"
#include "dense.h"
#include "optim.h"
#include "data.h"
#include "checkpoint.h"
#include "net.h"
#include "models.h"
#include "train.h"

#endif /* CNN_CNN_H */
