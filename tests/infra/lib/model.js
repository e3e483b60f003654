// Parse .tf files with @cdktn/hcl2json (HCL 2.23 built to WASM; offline) and build a small model
// the schema check and the policy rules read. hcl2json keeps literals as JSON values, turns every
// block into an array of objects, and any other expression into its source text as "${...}".
'use strict';
const fs = require('fs');
const path = require('path');
const { parse } = require('@cdktn/hcl2json');

const EXPR = /^\$\{([^]*)\}$/;
// A whole expression "${...}" (not a template such as "${a}-${b}"): the first "${" closes at the end.
function isExpr(v) {
  if (typeof v !== 'string' || !EXPR.test(v)) return false;
  let depth = 0;
  let quoted = false;
  for (let i = 1; i < v.length; i += 1) {
    const c = v[i];
    if (quoted) {
      if (c === '\\') i += 1;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '{') depth += 1;
    else if (c === '}' && --depth === 0) return i === v.length - 1;
  }
  return false;
}

// "parse config: [infra/x.tf:2,7-3,1: Invalid expression; ...]" -> "infra/x.tf line 2, column 7: Invalid ..."
function parseError(file, e) {
  const m = String(e && e.message).match(/\[?([^\s:\[]+):(\d+),(\d+)-[\d,]+: ([^]*?)\]?$/);
  return m ? `${m[1]} line ${m[2]}, column ${m[3]}: ${m[4]}` : `${file}: ${e && e.message}`;
}

// Every value that is jsonencode(<HCL object/tuple>): parse the inner expression as HCL too.
async function decodeJsonencode(cache, value) {
  if (typeof value === 'string') {
    const m = value.match(/^\$\{jsonencode\(([^]*)\)\}$/);
    if (m && !cache.has(value)) {
      try {
        const doc = await parse('jsonencode.tf', `v = ${m[1]}\n`);
        cache.set(value, doc.v);
      } catch (e) {
        cache.set(value, undefined);
      }
    }
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) await decodeJsonencode(cache, v);
  }
}

// load(files, root): { files, errors, resources, data, variables, locals, json, ... }
async function load(files, root) {
  const model = { root, files: [], errors: [], resources: [], data: [], variables: {}, locals: {}, modules: [], terraform: [], providers: [], decoded: new Map() };
  for (const file of files) {
    const rel = path.relative(root, file);
    const text = fs.readFileSync(file, 'utf8');
    let json;
    try {
      json = await parse(rel, text);
    } catch (e) {
      model.errors.push({ file: rel, message: parseError(rel, e) });
      continue;
    }
    model.files.push({ file: rel, text, json });
    const dir = path.dirname(file);
    for (const kind of ['resource', 'data']) {
      for (const [type, byName] of Object.entries(json[kind] || {})) {
        for (const [name, bodies] of Object.entries(byName)) {
          for (const body of bodies) {
            const address = kind === 'data' ? `data.${type}.${name}` : `${type}.${name}`;
            (kind === 'data' ? model.data : model.resources).push({ type, name, address, file: rel, dir, body });
          }
        }
      }
    }
    for (const [name, bodies] of Object.entries(json.variable || {})) model.variables[name] = { ...bodies[0], file: rel };
    for (const l of json.locals || []) Object.assign(model.locals, l);
    for (const [name, bodies] of Object.entries(json.module || {})) model.modules.push({ name, body: bodies[0], file: rel });
    for (const [name, bodies] of Object.entries(json.provider || {})) for (const body of bodies) model.providers.push({ name, body, file: rel });
    model.terraform.push(...(json.terraform || []));
    await decodeJsonencode(model.decoded, json);
  }
  return model;
}

// value(model, v): the literal behind v when it can be known offline: var.X with a literal default,
// local.X, jsonencode(...) of a literal, file()/templatefile() of a JSON file. Else v unchanged.
function value(model, v, dir, depth = 0) {
  if (!isExpr(v) || depth > 8) return v;
  const e = v.match(EXPR)[1].trim();
  let m;
  if ((m = e.match(/^var\.([\w-]+)$/)) && model.variables[m[1]] && 'default' in model.variables[m[1]]) {
    return value(model, model.variables[m[1]].default, dir, depth + 1);
  }
  if ((m = e.match(/^local\.([\w-]+)$/)) && m[1] in model.locals) return value(model, model.locals[m[1]], dir, depth + 1);
  if (model.decoded.has(v) && model.decoded.get(v) !== undefined) return model.decoded.get(v);
  if ((m = e.match(/^jsonencode\(((?:var|local)\.[\w-]+)\)$/))) return value(model, `\${${m[1]}}`, dir, depth + 1);
  if ((m = e.match(/^(?:file|templatefile)\(\s*"(?:\$\{path\.module\}\/)?([^"$]+)"/)) && dir) {
    try {
      const text = fs.readFileSync(path.join(dir, m[1]), 'utf8');
      return JSON.parse(text.replace(/\$\{[^}]*\}/g, '__expr__'));
    } catch (err) {
      return v;
    }
  }
  return v;
}

// lit(model, res, key): [known, value] of an argument; known is false for an unresolved expression.
function lit(model, res, key, body = res.body) {
  const v = value(model, body[key], res.dir);
  if (isExpr(v)) return [false, v];
  return [true, v];
}

// blocks(body, name): nested blocks, including the content of dynamic "name" blocks.
function blocks(body, name) {
  if (!body) return [];
  const direct = body[name] === undefined ? [] : Array.isArray(body[name]) ? body[name] : [body[name]];
  const dyn = ((body.dynamic || {})[name] || []).flatMap((d) => d.content || []);
  return [...direct, ...dyn].filter((b) => b && typeof b === 'object');
}

// refs(v): "type.name" addresses (and data.type.name) referenced anywhere inside v.
function refs(v) {
  const s = typeof v === 'string' ? v : JSON.stringify(v || '');
  return new Set([...s.matchAll(/\b((?:data\.)?aws_[a-z0-9_]+\.[A-Za-z_][\w-]*)/g)].map((m) => m[1]));
}

const asList = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

module.exports = { load, value, lit, blocks, refs, isExpr, asList };
