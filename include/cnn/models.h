/* cnn/models.h - the networks cnn builds for you: AlexNet (the paper's two
 * towers, or one), ResNet-18 to -152 as torchvision builds them, and a
 * small net for 28x28 images. Each returns a net that is built but not set
 * up: call cnn_net_setup(net, batch) and cnn_net_init(net, seed).
 * Parameter names match torchvision's, so weights move between the two.
 * Ownership and thread safety as in net.h. */
#ifndef CNN_MODELS_H
#define CNN_MODELS_H

#include <stdint.h>

#include "device.h"
#include "export.h"
#include "net.h"
#include "status.h"

CNN_BEGIN_DECLS

typedef enum cnn_alexnet_variant {
    /* The paper's network (Krizhevsky et al., 2012): conv2, conv4 and conv5
     * in two groups and LRN within each tower, 96-256-384-384-256 channels. */
    CNN_ALEXNET_TWO_TOWER = 0,
    /* The same layers without groups (LRN over all channels). */
    CNN_ALEXNET_ONE_TOWER
} cnn_alexnet_variant;

/* AlexNet on 227x227x3 images, `classes` outputs, on `device`:
 *   features: 0 conv 96 11x11/4, 1 relu, 2 lrn, 3 maxpool 3/2,
 *             4 conv 256 5x5 pad 2, 5 relu, 6 lrn, 7 maxpool 3/2,
 *             8 conv 384 3x3 pad 1, 9 relu, 10 conv 384 3x3 pad 1, 11 relu,
 *             12 conv 256 3x3 pad 1, 13 relu, 14 maxpool 3/2
 *   classifier: 0 dropout 0.5, 1 linear 4096, 2 relu, 3 dropout 0.5,
 *             4 linear 4096, 5 relu, 6 linear classes
 * LRN: size 5, alpha 5e-4 (PyTorch's convention: the paper's 1e-4 per
 * channel times 5), beta 0.75, k 2. PyTorch's default initialisation. */
CNN_API cnn_status cnn_model_alexnet(cnn_net **out,
                                     cnn_alexnet_variant variant,
                                     int64_t classes, cnn_device device);

/* The two-tower AlexNet with its towers as separate nodes, tower 0 on
 * `tower0` and tower 1 on `tower1` (model parallelism: the paper's two-GPU
 * split; the two may be the same device). Conv1, conv2, conv4, conv5 and
 * their LRN and pooling stay within a tower, conv3 and the classifier read
 * both, and the classifier runs on tower0. Each grouped layer is split in
 * two shards (cnn_net_set_shard) under torchvision's names, so one seed
 * gives the weights cnn_model_alexnet(CNN_ALEXNET_TWO_TOWER) gives, and the
 * two load each other's checkpoints. */
CNN_API cnn_status cnn_model_alexnet_towers(cnn_net **out, int64_t classes,
                                            cnn_device tower0,
                                            cnn_device tower1);

/* ResNet-`depth` (18, 34, 50, 101 or 152) as torchvision builds it (v1.5:
 * the stride of a bottleneck on its 3x3 conv), for images of `channels` x
 * `height` x `width` (height and width >= 32) and `classes` outputs. With
 * 1000 classes the parameter counts are torchvision's: 11,689,512 /
 * 21,797,672 / 25,557,032 / 44,549,160 / 60,192,808. */
CNN_API cnn_status cnn_model_resnet(cnn_net **out, int depth, int64_t classes,
                                    int64_t channels, int64_t height,
                                    int64_t width, cnn_device device);

/* A small net for 28x28x1 images (MNIST, Fashion-MNIST):
 *   conv1 32 3x3 pad 1, bn1, relu, maxpool 2/2,
 *   conv2 64 3x3 pad 1, bn2, relu, maxpool 2/2,
 *   flatten, fc1 128, relu, dropout 0.25, fc2 classes. */
CNN_API cnn_status cnn_model_small(cnn_net **out, int64_t classes,
                                   cnn_device device);

/* Builds a model by name: "alexnet" (two towers), "alexnet-towers" (the
 * towers as separate nodes, tower 1 on the next device of `device`'s kind
 * when there is one, e.g. cuda:1 for cuda:0, else on `device` too),
 * "alexnet-one-tower",
 * "resnet18" ... "resnet152" (224x224x3), "small" (28x28x1). */
CNN_API cnn_status cnn_model_by_name(cnn_net **out, const char *name,
                                     int64_t classes, cnn_device device);

CNN_END_DECLS

#endif /* CNN_MODELS_H */
