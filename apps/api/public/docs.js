// Renders /openapi.json as a readable page (no outside assets).
const $ = (id) => document.getElementById(id);
function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
const doc = await (await fetch('/openapi.json')).json();
$('version').textContent = `v${doc.info.version} · OpenAPI ${doc.openapi}`;
$('description').textContent = doc.info.description;
for (const [path, ops] of Object.entries(doc.paths)) {
  for (const [method, op] of Object.entries(ops)) {
    const box = el('section', { class: 'endpoint' });
    const h = el('h2');
    h.append(el('span', { class: `method ${method}` }, method.toUpperCase()), path);
    box.append(h, el('p', {}, op.summary));
    const schema = op.requestBody?.content?.['application/json']?.schema;
    if (schema) {
      box.append(el('div', { class: 'codes' }, 'Request body (JSON Schema):'), el('pre', {}, JSON.stringify(schema, null, 2)));
    }
    const codes = Object.entries(op.responses).map(([code, r]) => `${code}: ${r.description}`).join('\n');
    box.append(el('pre', { class: 'codes' }, codes));
    $('endpoints').append(box);
  }
}
