// The evidence lightbox: a thumbnail (a.thumb inside a [data-gallery] block) opens its display
// copy in a modal <dialog> with the photo's details (the hidden .photo-meta beside it). Moving
// stays within the block: previous/next buttons, ← and →, or a swipe; Esc or 关闭 closes.
// Without script the thumbnail is a plain link to the display copy.

const SWIPE_PX = 50;

export function initLightbox(dialog) {
  const image = dialog.querySelector("#lightbox-image");
  const caption = dialog.querySelector("#lightbox-caption");
  const count = dialog.querySelector("#lightbox-count");
  let items = [];
  let index = 0;

  const show = (position) => {
    index = (position + items.length) % items.length;
    const link = items[index];
    image.src = link.href;
    image.alt = link.querySelector("img").alt;
    const meta = link.parentElement.querySelector(".photo-meta");
    caption.replaceChildren(...(meta ? [...meta.cloneNode(true).children] : []));
    count.textContent = `第 ${index + 1} 张，共 ${items.length} 张`;
  };

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.thumb");
    if (!link) return;
    event.preventDefault();
    items = [...link.closest("[data-gallery]").querySelectorAll("a.thumb")];
    show(items.indexOf(link));
    if (!dialog.open) dialog.showModal();
  });

  dialog.addEventListener("keydown", (event) => {
    if (event.key === "ArrowRight") show(index + 1);
    else if (event.key === "ArrowLeft") show(index - 1);
    else return;
    event.preventDefault();
  });
  for (const button of dialog.querySelectorAll("[data-move]")) {
    button.addEventListener("click", () => show(index + Number(button.dataset.move)));
  }
  dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
  // A click on the backdrop (the dialog itself, outside its content) closes it too.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => image.removeAttribute("src"));

  let startX = null;
  dialog.addEventListener("touchstart", (event) => { startX = event.changedTouches[0].clientX; }, { passive: true });
  dialog.addEventListener("touchend", (event) => {
    if (startX === null) return;
    const moved = event.changedTouches[0].clientX - startX;
    startX = null;
    if (Math.abs(moved) >= SWIPE_PX) show(index + (moved < 0 ? 1 : -1));
  });
}
