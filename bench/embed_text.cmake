# bench/embed_text.cmake - writes the text file IN as the C string
# cnn_bench_shapes_ops in OUT (cmake -DIN=... -DOUT=... -P this file).
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)"
       "\\1\n" bytes "${bytes}")
file(WRITE ${OUT}
  "/* Generated from bench/shapes_ops.txt by bench/embed_text.cmake. */\n"
  "extern const char cnn_bench_shapes_ops[];\n"
  "const char cnn_bench_shapes_ops[] = {\n${bytes}0x00};\n")
