import type { Route } from '../http.js';
import { chatRoutes } from './chat.js';
import { contactRoutes } from './contacts.js';
import { identifyRoutes } from './identify.js';
import { miscRoutes } from './misc.js';
import { opencxRoutes } from './opencx.js';
import { replyfulRoutes } from './replyful.js';

/** Every route the sandbox serves, first match wins. */
export const allRoutes: Route[] = [...miscRoutes, ...contactRoutes, ...chatRoutes, ...opencxRoutes, ...replyfulRoutes, ...identifyRoutes];
