// The 打印 button of the printable pages (交办单, 答复意见书, 阶段性报告): the browser's print dialog.
document.getElementById("print-now")?.addEventListener("click", () => window.print());
