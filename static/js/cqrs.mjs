// The one script of the site, loaded as an ES module.  NHS.UK frontend's page template marks the
// body from an inline <script>; the Content Security Policy allows none, so this module does it
// (only browsers that run modules get here, which is what nhsuk-frontend-supported means).
import { initAll } from '../vendor/nhsuk/nhsuk-frontend.min.js'

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')
initAll()
