#!/usr/bin/env node
// tsc compiles only TypeScript; every other file under apps/*/src and libs/*/src (Lua scripts and
// their includes, prompt templates) must sit beside the compiled code, at the same relative path,
// so `join(__dirname, 'lua')` and relative Lua includes find them in dist/ as in the sources.
// Found by walking the trees, not from a list: a new asset directory needs no change here.
const fs = require('node:fs');
const path = require('node:path');

/** Where assets are looked for, relative to the repository root: each project's sources. */
const PROJECT_DIRS = ['apps', 'libs'];

/** Every file under <root>/{apps,libs}/<project>/src that is not TypeScript, relative to root. */
function findAssets(root) {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.isFile() && !entry.name.endsWith('.ts')) found.push(file);
    }
  };
  for (const top of PROJECT_DIRS) {
    if (!fs.existsSync(path.join(root, top))) continue;
    for (const project of fs.readdirSync(path.join(root, top), { withFileTypes: true })) {
      const src = path.join(top, project.name, 'src');
      if (project.isDirectory() && fs.existsSync(path.join(root, src))) walk(src);
    }
  }
  return found.sort();
}

/** Copies the assets into <root>/dist at the same relative paths; returns them. */
function copyAssets(root) {
  const assets = findAssets(root);
  for (const file of assets) {
    fs.mkdirSync(path.dirname(path.join(root, 'dist', file)), { recursive: true });
    fs.copyFileSync(path.join(root, file), path.join(root, 'dist', file));
  }
  return assets;
}

module.exports = { findAssets, copyAssets };

if (require.main === module) copyAssets(path.resolve(__dirname, '..'));
