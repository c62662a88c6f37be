console.log(
  'pushgate offline mode is not built yet (issue: Offline mode). Run `npm test` to exercise the system.',
);
