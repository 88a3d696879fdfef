"""Design constants: colours and class strings, in one place."""

BRAND = '#1d4ed8'  # blue-700: 6.7:1 on white, AA for text and for white text on it
# Quasar's colours of toasts and badges, which carry white text: its defaults (#21ba45 green, #c10015 red, #31ccec
# cyan) put white text on green and cyan below WCAG AA; these are the same hues, dark enough for it.
STATUS_COLOURS = {'positive': '#15803d', 'negative': '#b91c1c', 'info': '#0369a1'}
PAGE = 'w-full max-w-4xl mx-auto p-4 sm:p-6 gap-4'
CARD = 'w-full p-4 sm:p-6 gap-3 rounded-xl shadow-sm'
HEADLINE = 'text-2xl sm:text-3xl font-semibold text-slate-900'
TITLE = 'text-xl font-semibold text-slate-900'
SUBTLE = 'text-slate-600'
CODE = 'font-mono text-sm bg-slate-100 text-slate-900 rounded px-2 py-1 select-all'
AVATAR = 'w-12 h-12 rounded-full bg-slate-200 text-slate-800 text-lg font-semibold flex items-center justify-center'
DAY = 'w-10 h-10 min-h-0 rounded-full text-base'
# A time's button: a native <button> drawn like Quasar's outlined ones around it (the brand colour, 36 px high)
TIME = (
    'w-full sm:w-40 min-h-[36px] px-4 py-1 rounded border border-current text-primary bg-white text-sm font-medium'
    ' cursor-pointer hover:bg-slate-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2'
)
WARNING = 'w-full rounded-lg bg-amber-50 text-amber-900 border border-amber-300 px-4 py-3'
NOTICE = 'w-full rounded-lg bg-blue-50 text-blue-900 border border-blue-200 px-4 py-3'
