// The desk's 消息 badge follows new work without a reload: it asks the tiny summary endpoint
// every few seconds (a count query) while the page is visible, and at once when it comes back.
const script = document.querySelector("script[data-summary]");
const badge = document.getElementById("notice-badge");
const POLL_MS = 5000;

async function refresh() {
  if (!badge || document.hidden) return;
  try {
    const response = await fetch(script.dataset.summary, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const { unread, items } = await response.json();
    badge.textContent = String(unread);
    badge.hidden = unread === 0;
    badge.setAttribute("aria-label", `未读 ${unread} 条`);
    const newest = items[0];
    badge.title = newest ? `${newest.kind_label}：${newest.message}` : "";
  } catch {
    // Offline or the server restarting: the next tick tries again.
  }
}

if (badge) {
  setInterval(refresh, POLL_MS);
  document.addEventListener("visibilitychange", refresh);
}
