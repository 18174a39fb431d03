// The words of every page a browser sees from us (the login's callback pages and the emulator's), in
// English and Russian side by side, so that both versions are reviewed together; which one a page uses
// is the browser's Accept-Language (English unless it prefers Russian). The terminal stays English.

export type Lang = 'en' | 'ru';

/** The language of the pages for an Accept-Language header: the first of ours by preference; else English. */
export function pageLanguage(acceptLanguage: string | undefined): Lang {
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const weight = q === undefined ? 1 : Number(q.slice(2));
      return { base: tag.trim().split('-')[0], weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((entry) => entry.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  for (const { base } of ranked) if (base === 'ru' || base === 'en') return base;
  return 'en';
}

export interface PageText {
  ok: boolean;
  title: string;
  message: string;
}

/** The login's callback pages (src/login/listener.ts, browser-flow.ts). */
export const CALLBACK_PAGES: Record<Lang, {
  loggedIn(login: string): PageText;
  declined: PageText;
  refused: PageText;
  failed(detail?: string): PageText;
  stopped: PageText;
  badRequest: PageText;
  notFound: PageText;
  methodNotAllowed: PageText;
  strayError: PageText;
  notOurs: PageText;
  alreadyAnswered: PageText;
  noCode: PageText;
  error: PageText;
}> = {
  en: {
    loggedIn: (login) => ({ ok: true, title: 'Logged in', message: `yandex-token is logged in as ${login}. You can close this tab and return to the terminal.` }),
    declined: { ok: false, title: 'Login declined', message: 'Access was declined in the browser. You can close this tab.' },
    refused: { ok: false, title: 'Login declined', message: 'Yandex returned an error instead of a code; the terminal says which. You can close this tab.' },
    failed: (detail) => ({ ok: false, title: 'Login failed', message: `${detail ?? 'Something went wrong.'} See the terminal for details; you can close this tab.` }),
    stopped: { ok: false, title: 'Login stopped', message: 'The login was stopped in the terminal. You can close this tab.' },
    badRequest: { ok: false, title: 'Bad request', message: 'This address is not understood.' },
    notFound: { ok: false, title: 'Not found', message: 'Nothing here.' },
    methodNotAllowed: { ok: false, title: 'Method not allowed', message: 'Only GET is answered here.' },
    strayError: {
      ok: false,
      title: 'Not the expected login',
      message: 'This address reports an error but does not carry the state of the login that is waiting, so it cannot end that login. The terminal shows what it reported; press Ctrl-C there to stop waiting.',
    },
    notOurs: {
      ok: false,
      title: 'Not the expected login',
      message: 'This request does not carry the state of the login that is waiting, so it was ignored. If you started a new login since, use the newest link from the terminal.',
    },
    alreadyAnswered: { ok: false, title: 'Already answered', message: 'This login was already completed or is being completed. You can close this tab.' },
    noCode: { ok: false, title: 'No code', message: 'Yandex sent neither a code nor an error. Go back to the terminal and try again.' },
    error: { ok: false, title: 'Error', message: 'Something went wrong. Go back to the terminal.' },
  },
  ru: {
    loggedIn: (login) => ({ ok: true, title: 'Вход выполнен', message: `yandex-token вошёл как ${login}. Вкладку можно закрыть и вернуться в терминал.` }),
    declined: { ok: false, title: 'Вход отклонён', message: 'Доступ отклонён в браузере. Вкладку можно закрыть.' },
    refused: { ok: false, title: 'Вход отклонён', message: 'Яндекс вернул ошибку вместо кода; какую — сказано в терминале. Вкладку можно закрыть.' },
    // The detail is the terminal's English sentence: the Russian page points there instead.
    failed: () => ({ ok: false, title: 'Вход не удался', message: 'Что-то пошло не так. Подробности в терминале; вкладку можно закрыть.' }),
    stopped: { ok: false, title: 'Вход остановлен', message: 'Вход остановлен в терминале. Вкладку можно закрыть.' },
    badRequest: { ok: false, title: 'Неверный запрос', message: 'Этот адрес не распознан.' },
    notFound: { ok: false, title: 'Не найдено', message: 'Здесь ничего нет.' },
    methodNotAllowed: { ok: false, title: 'Метод не поддерживается', message: 'Здесь отвечают только на GET.' },
    strayError: {
      ok: false,
      title: 'Это не тот вход',
      message: 'Этот адрес сообщает об ошибке, но без state ожидающего входа, поэтому не может его завершить. Что он сообщил, видно в терминале; нажмите там Ctrl-C, чтобы перестать ждать.',
    },
    notOurs: {
      ok: false,
      title: 'Это не тот вход',
      message: 'В запросе нет state ожидающего входа, поэтому он пропущен. Если вы с тех пор начали новый вход, откройте самую свежую ссылку из терминала.',
    },
    alreadyAnswered: { ok: false, title: 'Уже получено', message: 'Этот вход уже завершён или завершается. Вкладку можно закрыть.' },
    noCode: { ok: false, title: 'Нет кода', message: 'Яндекс не прислал ни кода, ни ошибки. Вернитесь в терминал и попробуйте ещё раз.' },
    error: { ok: false, title: 'Ошибка', message: 'Что-то пошло не так. Вернитесь в терминал.' },
  },
};

/** The emulator's pages (src/emulator/routes/): the frame's note, the consent form, the device pages, the code page. */
export const EMULATOR_PAGES: Record<Lang, {
  note: string;
  suffix: string;
  asks(app: string): string;
  account: string;
  permissions: string;
  allPermissions: string;
  device: string;
  allow: string;
  deny: string;
  enterCodeTitle: string;
  enterCode: string;
  continue: string;
  wrongCodeTitle: string;
  wrongCode: string;
  tryAgain: string;
  allowTitle: string;
  doneTitle: string;
  allowed: string;
  denied: string;
  returnToApp: string;
  codeTitle: string;
  yourCode: string;
  enterInApp: string;
}> = {
  en: {
    note: 'Yandex OAuth emulator — not Yandex. Tokens issued here work only with this emulator.',
    suffix: 'Yandex OAuth emulator',
    asks: (app) => `${app} asks for access`,
    account: 'Account',
    permissions: 'Permissions',
    allPermissions: 'all that the app has',
    device: 'Device',
    allow: 'Allow',
    deny: 'Deny',
    enterCodeTitle: 'Enter the code',
    enterCode: 'Enter the code shown by the app',
    continue: 'Continue',
    wrongCodeTitle: 'Wrong code',
    wrongCode: 'Wrong or expired code',
    tryAgain: 'Try again',
    allowTitle: 'Allow access',
    doneTitle: 'Done',
    allowed: 'Access allowed',
    denied: 'Access denied',
    returnToApp: 'Return to the app.',
    codeTitle: 'Your code',
    yourCode: 'Your confirmation code',
    enterInApp: 'Enter it in the app.',
  },
  ru: {
    note: 'Эмулятор Яндекс OAuth — не Яндекс. Выданные здесь токены работают только с этим эмулятором.',
    suffix: 'эмулятор Яндекс OAuth',
    asks: (app) => `${app} запрашивает доступ`,
    account: 'Аккаунт',
    permissions: 'Права',
    allPermissions: 'все, что есть у приложения',
    device: 'Устройство',
    allow: 'Разрешить',
    deny: 'Отклонить',
    enterCodeTitle: 'Введите код',
    enterCode: 'Введите код, который показало приложение',
    continue: 'Продолжить',
    wrongCodeTitle: 'Неверный код',
    wrongCode: 'Неверный или просроченный код',
    tryAgain: 'Попробовать ещё раз',
    allowTitle: 'Разрешите доступ',
    doneTitle: 'Готово',
    allowed: 'Доступ разрешён',
    denied: 'Доступ отклонён',
    returnToApp: 'Вернитесь в приложение.',
    codeTitle: 'Ваш код',
    yourCode: 'Ваш код подтверждения',
    enterInApp: 'Введите его в приложении.',
  },
};
