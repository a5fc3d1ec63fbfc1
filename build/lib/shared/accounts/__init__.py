"""Account services of the portal: register, verify the e-mail address, set a password, sign in, forgotten
password and reset. Plain functions over an AccountServices bundle; the triggers only parse and render."""
