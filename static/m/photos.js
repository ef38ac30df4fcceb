// Photos are shrunk on the phone before they are stored: a 12-megapixel camera file of 4-6 MB
// becomes a JPEG of a few hundred KB with a long edge of 1600 px, which uploads on a weak
// signal. Re-encoding through a canvas also drops the EXIF block (no GPS or device data leaves
// the phone inside the file; the position is sent beside it).

const JPEG_QUALITY = 0.85;

/** Decode a picked or captured file, upright as the camera meant it. */
async function decode(file) {
  try {
    return await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch (error) {
    // Old WebKit: no options argument, or no createImageBitmap for this type at all.
    const url = URL.createObjectURL(file);
    try {
      const image = new Image();
      image.src = url;
      await image.decode();
      return image;
    } finally {
      URL.revokeObjectURL(url);
    }
  }
}

/** The size that fits `longEdge` without ever enlarging. */
export function fitLongEdge(width, height, longEdge) {
  const scale = Math.min(1, longEdge / Math.max(width, height));
  return { width: Math.round(width * scale), height: Math.round(height * scale) };
}

/** Draw the image at its new size and encode it as JPEG. */
async function encode(image, width, height) {
  if (typeof OffscreenCanvas !== "undefined") {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext("2d").drawImage(image, 0, 0, width, height);
    return canvas.convertToBlob({ type: "image/jpeg", quality: JPEG_QUALITY });
  }
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").drawImage(image, 0, 0, width, height);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
}

/** Hex SHA-256 of a blob, as the server checks it (X-Content-SHA256). */
export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A camera file resized to `longEdge` px as JPEG: {blob, type, width, height, bytes, sha256}. */
export async function preparePhoto(file, longEdge) {
  const image = await decode(file);
  const size = fitLongEdge(image.width, image.height, longEdge);
  const blob = await encode(image, size.width, size.height);
  if (image.close) image.close();
  return { blob, type: "image/jpeg", ...size, bytes: blob.size, sha256: await sha256Hex(blob) };
}
