// Photos on the phone. The camera's own facts are read from the ORIGINAL file first: when the
// photo was taken (DateTimeOriginal with its OffsetTimeOriginal), where (GPS) and how the
// camera was held (Orientation). They go up beside the photo (`exif_*` in the record), because
// the copy that is uploaded is re-encoded through a canvas and carries no EXIF at all: a
// 12-megapixel camera file of 4-6 MB becomes a JPEG of a few hundred KB with a long edge of
// 1600 px, which uploads on a weak signal. On Wi-Fi the untouched file may follow (outbox).

import { parse } from "/vendor/exifr/lite.esm.mjs";

import { zoneOffset } from "./util.js";

const JPEG_QUALITY = 0.85;
const EXIF_TIME = /^(\d{4}):(\d\d):(\d\d) (\d\d):(\d\d):(\d\d)/;
const UTC_OFFSET = /^[+-]\d\d:\d\d$/;
const EXIF_OPTIONS = {
  ifd0: { pick: ["Orientation"] }, exif: { pick: ["DateTimeOriginal", "OffsetTimeOriginal"] }, gps: true,
  // Raw values: a revived DateTimeOriginal would be read in the phone's zone and lose the offset.
  reviveValues: false, translateValues: false,
};

/**
 * The camera's time as ISO 8601 with its offset. A camera that wrote no offset (many do not)
 * meant local time: the city's offset is put on it, and `exif_offset_assumed` says so.
 */
function cameraTime(raw, offset, zone) {
  const match = typeof raw === "string" && EXIF_TIME.exec(raw.trim());
  if (!match) return { exif_taken_at: null, exif_offset_assumed: false };
  const [, year, month, day, hour, minute, second] = match;
  const wall = `${year}-${month}-${day}T${hour}:${minute}:${second}`;
  const given = typeof offset === "string" && UTC_OFFSET.test(offset.trim()) ? offset.trim() : null;
  const suffix = given || zoneOffset(zone, Date.UTC(+year, +month - 1, +day, +hour, +minute, +second));
  const iso = `${wall}${suffix}`;
  if (Number.isNaN(Date.parse(iso))) return { exif_taken_at: null, exif_offset_assumed: false };
  return { exif_taken_at: iso, exif_offset_assumed: !given };
}

/** A usable GPS position: in range, and not the 0,0 some cameras write without a fix. */
function cameraPlace(tags) {
  const { longitude: lon, latitude: lat } = tags;
  const usable = Number.isFinite(lon) && Number.isFinite(lat) && Math.abs(lon) <= 180 && Math.abs(lat) <= 90
    && (lon !== 0 || lat !== 0);
  return usable ? { exif_lon: lon, exif_lat: lat } : { exif_lon: null, exif_lat: null };
}

/**
 * What the camera wrote in the original file: {exif_taken_at, exif_offset_assumed, exif_lon,
 * exif_lat, exif_orientation}, each null when absent (a screenshot, a photo from a chat app).
 * `zone` is the city's time zone, for a camera time without an offset.
 */
export async function readCameraFacts(file, zone) {
  let tags = null;
  try {
    tags = await parse(file, EXIF_OPTIONS);
  } catch (error) {
    tags = null; // not a format exifr reads (e.g. PNG): the photo simply has no camera facts
  }
  tags ||= {};
  const orientation = Number.isInteger(tags.Orientation) && tags.Orientation >= 1 && tags.Orientation <= 8
    ? tags.Orientation : null;
  return { ...cameraTime(tags.DateTimeOriginal, tags.OffsetTimeOriginal, zone), ...cameraPlace(tags),
    exif_orientation: orientation };
}

/** Decode a picked or captured file (upright or not: see decoderTurnsUpright). */
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

/** A 2×1 JPEG whose EXIF says "turn 90° clockwise": upright it is 1×2. */
async function sidewaysProbe() {
  const canvas = typeof OffscreenCanvas !== "undefined" ? new OffscreenCanvas(2, 1) : document.createElement("canvas");
  canvas.width = 2;
  canvas.height = 1;
  canvas.getContext("2d").fillRect(0, 0, 2, 1);
  const jpeg = new Uint8Array(await (await encodeCanvas(canvas)).arrayBuffer());
  // An APP1 Exif segment, big-endian TIFF, one IFD0 entry: Orientation (0x0112), SHORT, 6.
  const app1 = new Uint8Array([
    0xff, 0xe1, 0x00, 0x22, 0x45, 0x78, 0x69, 0x66, 0x00, 0x00, 0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08,
    0x00, 0x01, 0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  ]);
  return new Blob([jpeg.slice(0, 2), app1, jpeg.slice(2)], { type: "image/jpeg" });
}

let turnsUpright = null;

/**
 * Whether this browser's decoder already applies EXIF orientation (every current browser
 * does; WebKit before iOS 13.4 did not). Asked once, of the same decoder the photos go
 * through, so a photo is turned exactly once either way.
 */
function decoderTurnsUpright() {
  turnsUpright ||= (async () => {
    try {
      const image = await decode(await sidewaysProbe());
      const upright = image.height > image.width;
      if (image.close) image.close();
      return upright;
    } catch (error) {
      return true;
    }
  })();
  return turnsUpright;
}

/** The size that fits `longEdge` without ever enlarging. */
export function fitLongEdge(width, height, longEdge) {
  const scale = Math.min(1, longEdge / Math.max(width, height));
  return { width: Math.round(width * scale), height: Math.round(height * scale) };
}

/** Orientations 5-8 turn the picture a quarter: width and height swap. */
const quarterTurn = (orientation) => orientation >= 5 && orientation <= 8;

/** The canvas transform that draws a stored picture upright on a `width`×`height` canvas (EXIF 1-8). */
function uprightTransform(orientation, width, height) {
  return {
    2: [-1, 0, 0, 1, width, 0], 3: [-1, 0, 0, -1, width, height], 4: [1, 0, 0, -1, 0, height],
    5: [0, 1, 1, 0, 0, 0], 6: [0, 1, -1, 0, width, 0], 7: [0, -1, -1, 0, width, height], 8: [0, -1, 1, 0, 0, height],
  }[orientation] || [1, 0, 0, 1, 0, 0];
}

function encodeCanvas(canvas) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type: "image/jpeg", quality: JPEG_QUALITY });
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
}

/**
 * Draw a decoded picture at most `longEdge` px long, turned by EXIF `orientation` (1 when the
 * decoder turned it already), and encode it as JPEG: {blob, width, height}.
 */
export async function shrink(image, longEdge, orientation = 1) {
  const turn = quarterTurn(orientation);
  const size = fitLongEdge(turn ? image.height : image.width, turn ? image.width : image.height, longEdge);
  const canvas = typeof OffscreenCanvas !== "undefined"
    ? new OffscreenCanvas(size.width, size.height) : document.createElement("canvas");
  canvas.width = size.width;
  canvas.height = size.height;
  const context = canvas.getContext("2d");
  context.transform(...uprightTransform(orientation, size.width, size.height));
  context.drawImage(image, 0, 0, turn ? size.height : size.width, turn ? size.width : size.height);
  return { blob: await encodeCanvas(canvas), ...size };
}

/** Hex SHA-256 of a blob, as the server checks it (X-Content-SHA256). */
export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A camera file resized to `longEdge` px as an upright JPEG: {blob, type, width, height, bytes,
 * sha256}. `orientation` is the file's EXIF orientation, applied here only if the browser's
 * decoder did not apply it.
 */
export async function preparePhoto(file, longEdge, orientation = null) {
  const image = await decode(file);
  const turn = orientation && !(await decoderTurnsUpright()) ? orientation : 1;
  const { blob, width, height } = await shrink(image, longEdge, turn);
  if (image.close) image.close();
  return { blob, type: "image/jpeg", width, height, bytes: blob.size, sha256: await sha256Hex(blob) };
}
