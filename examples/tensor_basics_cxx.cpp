// examples/tensor_basics_cxx.cpp - the same example compiled as C++, to
// prove the public headers (extern "C" guards included) work from C++.
#include "tensor_basics.c"
