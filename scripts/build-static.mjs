// Copies the compiled NHS.UK frontend (CSS, ES-module JS, images) into static/vendor/nhsuk,
// where Django's collectstatic and whitenoise pick it up.
import { cpSync, mkdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'node_modules', 'nhsuk-frontend', 'dist', 'nhsuk')
const out = join(root, 'static', 'vendor', 'nhsuk')

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
for (const file of ['nhsuk-frontend.min.css', 'nhsuk-frontend.min.css.map', 'nhsuk-frontend.min.js', 'nhsuk-frontend.min.js.map']) {
  cpSync(join(dist, file), join(out, file))
}
cpSync(join(dist, 'assets'), join(out, 'assets'), { recursive: true })
console.log(`NHS.UK frontend copied to ${out}`)
