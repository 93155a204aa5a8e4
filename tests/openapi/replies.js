// A rule for `redocly lint` (redocly.yaml): every property of a successful JSON reply is
// `required`, unless marked `x-optional: true` (present in some replies only), so that a
// client generated from the document never types as optional what is always there.

function ReplyPropertiesRequired() {
  return {
    Root: {
      leave(root, { report, location }) {
        const schemas = (root.components && root.components.schemas) || {};
        const checked = new Set();
        const check = (schema, pointer) => {
          if (!schema) return;
          if (schema.$ref) {
            const name = schema.$ref.split('/').pop();
            if (!checked.has(name)) {
              checked.add(name);
              check(schemas[name], ['components', 'schemas', name]);
            }
            return;
          }
          for (const [key, property] of Object.entries(schema.properties || {})) {
            if (!(schema.required || []).includes(key) && !property['x-optional']) {
              report({
                message: `Property \`${key}\` of a reply is not \`required\` (nor marked \`x-optional\`).`,
                location: location.child([...pointer, 'properties', key]),
              });
            }
            check(property, [...pointer, 'properties', key]);
          }
          check(schema.items, [...pointer, 'items']);
          (schema.allOf || []).forEach((part, index) => check(part, [...pointer, 'allOf', index]));
        };
        for (const [path, operations] of Object.entries(root.paths || {})) {
          for (const [method, operation] of Object.entries(operations)) {
            for (const [status, response] of Object.entries(operation.responses || {})) {
              const json = status.startsWith('2') && response.content && response.content['application/json'];
              if (json) {
                check(json.schema, ['paths', path, method, 'responses', status, 'content', 'application/json', 'schema']);
              }
            }
          }
        }
      },
    },
  };
}

module.exports = () => ({
  id: 'ticket-api',
  rules: { oas3: { 'reply-properties-required': ReplyPropertiesRequired } },
});
