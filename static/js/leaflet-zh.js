// Leaflet's own controls in Chinese. Its zoom buttons and layer switcher carry English
// tooltips and screen-reader labels ("Zoom in", "Zoom out", "Layers"); every map of the
// desk, the wall and the phone calls `speakChinese(L)` before it makes a map.

/** Chinese titles for the zoom buttons of every map made after this call. */
export function speakChinese(L) {
  L.Control.Zoom.mergeOptions({ zoomInTitle: "放大", zoomOutTitle: "缩小" });
}

/** Chinese title for a layer switcher's button, once the control is on its map. */
export function labelLayers(control) {
  const toggle = control.getContainer().querySelector(".leaflet-control-layers-toggle");
  toggle.title = "图层";
  toggle.setAttribute("aria-label", "图层");
}
