// Renders the OpenAPI document with Swagger UI (from npm, served by the app: no CDN).
const root = document.getElementById("swagger-ui");
window.SwaggerUIBundle({
  url: root.dataset.specUrl,
  domNode: root,
  deepLinking: true,
  requestInterceptor: (request) => {
    const token = document.querySelector('meta[name="csrf-token"]').content;
    request.headers["X-CSRFToken"] = token;
    return request;
  },
});
