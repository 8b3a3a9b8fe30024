// The log-in / create-account form: mode, validation with the server's bounds, field errors
// announced through aria-describedby, and the API call. `onSignedIn` runs after a success.
import * as api from './api.js';
import { $ } from './dom.js';

// Which field an API error id belongs to.
const ERROR_FIELDS = { USERNAME_EXISTS: 'username', EMAIL_EXISTS: 'email' };
const capitalize = (text) => (text ? text[0].toUpperCase() + text.slice(1) : text);

export class AuthForm {
  constructor(els, { onSignedIn }) {
    this.els = els;
    this.mode = 'login'; // 'login' | 'register'
    this.onSignedIn = onSignedIn;
  }

  setMode(mode) {
    const { els } = this;
    this.mode = mode;
    const register = mode === 'register';
    els.usernameField.hidden = !register;
    els.authPasswordHint.hidden = !register;
    els.authTitle.textContent = register ? 'Create your account' : 'Welcome back';
    els.authSubtitle.textContent = register
      ? 'Pick a username others will see next to your messages.'
      : 'Log in to pick up where you left off.';
    els.authSubmit.textContent = register ? 'Create account' : 'Log in';
    els.authSwitchText.textContent = register ? 'Already have an account?' : 'New to roomcast?';
    els.authSwitch.textContent = register ? 'Sign in instead' : 'Register';
    els.authPassword.autocomplete = register ? 'new-password' : 'current-password';
    this.clearErrors();
  }

  // The field that takes the focus when the form is shown.
  firstField() {
    return this.mode === 'register' ? this.els.authUsername : this.els.authEmail;
  }

  clearErrors() {
    this.els.authError.textContent = '';
    for (const input of [this.els.authUsername, this.els.authEmail, this.els.authPassword]) {
      this.setFieldError(input, '');
    }
  }

  setFieldError(input, message) {
    const error = $(`${input.id}-error`);
    error.textContent = message;
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  showError(message) {
    this.els.authError.textContent = message;
  }

  // Same bounds as the server (docs/protocol.md), so most mistakes are caught before a round trip.
  validate({ username, email, password }) {
    const errors = {};
    const length = (s) => Array.from(s).length;
    if (this.mode === 'register') {
      if (length(username) < 4 || length(username) > 100) errors.username = 'Username must be 4–100 characters.';
      // eslint-disable-next-line no-control-regex
      else if (/[\u0000-\u001f\u007f-\u009f]/.test(username)) errors.username = 'Username cannot contain control characters.';
    }
    if (!email) errors.email = 'Enter your email address.';
    else if (length(email) > 100 || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) errors.email = 'Enter a valid email address.';
    if (!password) errors.password = 'Enter your password.';
    else if (this.mode === 'register' && (length(password) < 10 || length(password) > 100)) {
      errors.password = 'Password must be 10–100 characters.';
    }
    return errors;
  }

  async submit(event) {
    event.preventDefault();
    const { els } = this;
    this.clearErrors();
    const values = {
      username: els.authUsername.value.trim(),
      email: els.authEmail.value.trim(),
      password: els.authPassword.value,
    };
    const inputs = { username: els.authUsername, email: els.authEmail, password: els.authPassword };
    const errors = this.validate(values);
    const invalid = Object.keys(errors);
    if (invalid.length) {
      for (const field of invalid) this.setFieldError(inputs[field], errors[field]);
      this.showError('Please fix the highlighted fields.');
      inputs[invalid[0]].focus();
      return;
    }
    els.authSubmit.disabled = true;
    els.authSubmit.setAttribute('aria-busy', 'true');
    try {
      if (this.mode === 'register') await api.createAccount(values.username, values.email, values.password);
      else await api.login(values.email, values.password);
      els.authPassword.value = '';
      this.onSignedIn();
    } catch (error) {
      this.showApiError(error, inputs);
    } finally {
      els.authSubmit.disabled = false;
      els.authSubmit.removeAttribute('aria-busy');
    }
  }

  showApiError(error, inputs) {
    const message = capitalize(error.message);
    // BAD_REQUEST messages name the field they are about ("password must be …").
    const field = ERROR_FIELDS[error.id]
      || (error.id === 'BAD_REQUEST' && /^(username|email|password)\b/i.exec(error.message)?.[1].toLowerCase());
    if (field && inputs[field] && !inputs[field].closest('[hidden]')) {
      // Shown at the field (read out on focus through aria-describedby).
      this.setFieldError(inputs[field], message);
      this.showError('Please check the highlighted field.');
      inputs[field].focus();
      return;
    }
    if (error.id === 'LOGIN_FAILED') {
      this.els.authPassword.select();
      this.els.authPassword.focus();
    }
    this.showError(message);
  }
}
