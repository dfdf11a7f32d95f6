// @ts-check
import { login } from '../api.js';
import { h, replace } from '../dom.js';
import { forget, loadMe } from '../session.js';

/**
 * @param {HTMLElement} app
 * @param {() => void} done
 */
export function renderLogin(app, done) {
  forget();
  document.title = 'Log in · vmcrypt';
  const user = h('input', { id: 'login-user', name: 'user', autocomplete: 'username', required: true, maxlength: 64, autofocus: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: 1024 });
  const error = h('p', { class: 'error', id: 'login-error', role: 'alert' });
  const button = h('button', { type: 'submit', id: 'login-submit' }, 'Log in');
  const form = h('form', {
    class: 'login card',
    onsubmit: async (/** @type {Event} */ e) => {
      e.preventDefault();
      replace(error);
      button.setAttribute('disabled', '');
      try {
        await login(/** @type {HTMLInputElement} */ (user).value, /** @type {HTMLInputElement} */ (password).value);
        await loadMe();
        done();
      } catch (err) {
        /** @type {HTMLInputElement} */ (password).value = '';
        replace(error, /** @type {Error} */ (err).message || 'login failed');
      } finally {
        button.removeAttribute('disabled');
      }
    },
  },
  h('h1', null, h('img', { src: '/console/favicon.svg', alt: '', width: 28, height: 28 }), ' vmcrypt'),
  h('p', { class: 'muted' }, 'VM encryption for KVM/QEMU: sign in to the manager.'),
  h('label', null, 'User name', user),
  h('label', null, 'Password', password),
  button,
  error);
  replace(app, h('div', { class: 'login-page' }, form));
  /** @type {HTMLInputElement} */ (user).focus();
}
