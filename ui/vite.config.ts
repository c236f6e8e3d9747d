/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite'
import vue from '@vitejs/plugin-vue'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

// Vant ships its icon font as a data: URL with a CDN fallback. The app's CSP
// (default-src 'self') allows neither for fonts, so serve the same font as a local file.
function vantIconFontLocal(): Plugin {
  const fontFile = fileURLToPath(new URL('./node_modules/.cache/jingtong/vant-icon.woff2', import.meta.url))
  const fontFace = /src:url\(data:font\/woff2;charset=utf-8;base64,([A-Za-z0-9+/=]+)\) format\("woff2"\),url\([^)]*\) format\("woff"\)/
  return {
    name: 'jingtong:vant-icon-font-local',
    enforce: 'pre',
    transform(code, id) {
      const file = id.split('?')[0]
      if (!/[\\/]vant[\\/].*\.css$/.test(file) || !code.includes('font-family:vant-icon')) return
      const m = code.match(fontFace)
      if (!m) this.error('Vant icon @font-face changed shape; update vantIconFontLocal in vite.config.ts')
      mkdirSync(dirname(fontFile), { recursive: true })
      writeFileSync(fontFile, Buffer.from(m[1], 'base64'))
      const url = relative(dirname(file), fontFile).split(sep).join('/')
      return { code: code.replace(m[0], `src:url("${url}") format("woff2")`), map: null }
    },
  }
}

// Fail the build if anything the CSP would block (or a remote fetch) slips into the output.
function cspGuard(): Plugin {
  const banned: [RegExp, string][] = [
    [/data:font\//, 'inline font'],
    [/url\((["']?)(https?:)?\/\//, 'remote url() in CSS'],
    [/<script(?![^>]*\bsrc=)[^>]*>/, 'inline <script>'],
  ]
  return {
    name: 'jingtong:csp-guard',
    apply: 'build',
    generateBundle(_opts, bundle) {
      for (const [name, out] of Object.entries(bundle)) {
        const text = out.type === 'chunk' ? out.code : typeof out.source === 'string' ? out.source : ''
        for (const [re, what] of banned) {
          if (re.test(text)) this.error(`${what} in ${name} would break under the app's CSP`)
        }
      }
    },
  }
}

export default defineConfig({
  plugins: [vue(), vantIconFontLocal(), cspGuard()],
  define: {
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  // Tauri's dev server conventions: fixed port, keep Rust output visible.
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: { outDir: 'dist', emptyOutDir: true },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.spec.ts'],
    setupFiles: ['tests/setup.ts'],
    css: false,
  },
})
