// The tests edit this line to see the app recompiled, restarted and relinked.
export const greeting = 'hello'
