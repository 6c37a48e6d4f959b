// /docs: Swagger UI (swagger-ui-dist, served by the service from node_modules) renders the
// service's own /openapi.json. Everything it loads comes from this origin.
// BaseLayout rather than the standalone preset: the standalone top bar would offer to load any
// document from any URL, which this page has no reason to do.
window.ui = window.SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  layout: 'BaseLayout',
  deepLinking: true,
  // The online validator badge would call a third-party server with the document's URL.
  validatorUrl: null,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
  displayRequestDuration: true,
  // API keys typed into "Authorize" stay in this tab only.
  persistAuthorization: false,
});
