// Check resource/data types, argument names (nested blocks too), required arguments and literal
// types against the committed snapshot of the AWS provider schema (schema/aws-provider.json).
'use strict';
const { isExpr } = require('./model');

const META = {
  resource: ['count', 'for_each', 'provider', 'depends_on', 'lifecycle', 'provisioner', 'connection'],
  data: ['count', 'for_each', 'provider', 'depends_on', 'lifecycle'],
};

// checkBody(node, body, where, problems): node is {attrs, blocks, required}; body an object.
function checkBody(node, body, where, problems, meta = []) {
  const attrs = node.attrs || {};
  const blocks = node.blocks || {};
  for (const [key, val] of Object.entries(body)) {
    if (meta.includes(key)) continue;
    if (key === 'dynamic') {
      for (const [name, dyns] of Object.entries(val)) {
        if (!blocks[name]) problems.push(`${where}: dynamic "${name}" is not a block of this type`);
        else for (const d of dyns) for (const c of d.content || []) checkBody(blocks[name], c, `${where}.${name}`, problems);
      }
      continue;
    }
    if (blocks[key]) {
      if (isExpr(val)) continue;
      for (const b of Array.isArray(val) ? val : [val]) {
        if (b && typeof b === 'object' && !Array.isArray(b)) checkBody(blocks[key], b, `${where}.${key}`, problems);
      }
      continue;
    }
    const type = attrs[key];
    if (!type) {
      problems.push(`${where}: unknown argument "${key}"`);
      continue;
    }
    if (isExpr(val) || val === null) continue;
    const ok = {
      bool: typeof val === 'boolean',
      number: typeof val === 'number',
      string: ['string', 'number', 'boolean'].includes(typeof val),
      list: Array.isArray(val),
      map: typeof val === 'object' && !Array.isArray(val),
    }[type];
    if (ok === false) problems.push(`${where}: "${key}" should be ${type}, got ${JSON.stringify(val).slice(0, 40)}`);
  }
  for (const req of node.required || []) {
    const present = req in body || (body.dynamic && req in body.dynamic);
    if (!present) problems.push(`${where}: missing required argument "${req}"`);
  }
}

// checkResource(schema, r): list of problems for one resource or data block.
function checkResource(schema, r) {
  const isData = r.address.startsWith('data.');
  const all = isData ? schema.data_source_types : schema.resource_types;
  const trees = isData ? schema.data_sources : schema.resources;
  if (!r.type.startsWith('aws_')) return []; // other providers (random, tls...) are not in the snapshot
  if (!all.includes(r.type)) return [`${r.address}: no ${isData ? 'data source' : 'resource'} type "${r.type}" in hashicorp/aws ${schema.version}`];
  if (!trees[r.type]) return [`${r.address}: "${r.type}" exists but is not in the snapshot; run tests/infra/make-schema`];
  const problems = [];
  checkBody(trees[r.type], r.body, r.address, problems, META[isData ? 'data' : 'resource']);
  return problems;
}

function checkProvider(schema, p) {
  if (p.name !== 'aws') return [];
  const problems = [];
  checkBody(schema.provider_config, p.body, `provider.aws (${p.file})`, problems, ['alias', 'version']);
  return problems;
}

module.exports = { checkResource, checkProvider };
