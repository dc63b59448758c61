/**
 * The DOM side of the extension, loaded as one chunk when the plugin activates.
 */
export { showLoginDialog } from './login';
export { QuantumSidebar } from './sidebar';
export { QuantumStatus } from './statusbar';
