// This program's own copy of stb_image and stb_image_write, compiled in, as many programs do.
// Its definitions take precedence over the libstb.so that xai::xai links; the two are the same API.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image.h>
#include <stb_image_write.h>

// The first channel of the first pixel of an image file, read with this program's stb; -1 on failure.
int consumer_own_stb_first_pixel(const char* path) {
    int w = 0, h = 0, c = 0;
    unsigned char* data = stbi_load(path, &w, &h, &c, 0);
    if (!data) return -1;
    const int first = data[0];
    stbi_image_free(data);
    return first;
}

// Writes a 2×2 grey PNG with the program's own stb and reads it back; returns the first pixel.
int consumer_own_stb_roundtrip(const char* path) {
    const unsigned char pixels[4] = {10, 20, 30, 40};
    if (!stbi_write_png(path, 2, 2, 1, pixels, 2)) return -1;
    return consumer_own_stb_first_pixel(path);
}
