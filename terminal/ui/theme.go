package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// kioskTheme is a light, high-contrast theme for a screen in the sun at a
// park gate: black text on white, saturated status colours, large text and
// padding so that every button is at least MinTouch tall at scale 1.
// Dark themes wash out in daylight, so the system's variant is ignored.
type kioskTheme struct{}

// MinTouch is the smallest side of anything the attendant taps, in device
// independent pixels (Android and WCAG ask for 48).
const MinTouch = 56

var (
	colInk       = color.NRGBA{0x11, 0x11, 0x11, 0xff}
	colPaper     = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	colPrimary   = color.NRGBA{0x0b, 0x4f, 0x9c, 0xff} // deep blue
	colButton    = color.NRGBA{0xdd, 0xe3, 0xea, 0xff}
	colSuccess   = color.NRGBA{0x0b, 0x6e, 0x2e, 0xff}
	colWarning   = color.NRGBA{0xa8, 0x52, 0x00, 0xff}
	colError     = color.NRGBA{0xb0, 0x00, 0x20, 0xff}
	colMuted     = color.NRGBA{0x4a, 0x4a, 0x4a, 0xff}
	colFocus     = color.NRGBA{0x0b, 0x4f, 0x9c, 0x60} // primary, see-through
	colSelection = color.NRGBA{0xa7, 0xc7, 0xf2, 0xff}
	colBar       = color.NRGBA{0x1f, 0x29, 0x33, 0xff} // status bar
	colPanel     = color.NRGBA{0xf1, 0xf4, 0xf7, 0xff}
)

func (kioskTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameBackground, theme.ColorNameInputBackground, theme.ColorNameOverlayBackground, theme.ColorNameMenuBackground:
		return colPaper
	case theme.ColorNameForeground:
		return colInk
	case theme.ColorNamePrimary:
		return colPrimary
	case theme.ColorNameButton:
		return colButton
	case theme.ColorNameDisabledButton:
		return color.NRGBA{0xee, 0xee, 0xee, 0xff}
	case theme.ColorNameDisabled:
		return color.NRGBA{0x80, 0x80, 0x80, 0xff}
	case theme.ColorNameInputBorder:
		return colMuted
	case theme.ColorNamePlaceHolder:
		return colMuted
	case theme.ColorNameSeparator:
		return color.NRGBA{0x9a, 0xa4, 0xae, 0xff}
	case theme.ColorNameSuccess:
		return colSuccess
	case theme.ColorNameWarning:
		return colWarning
	case theme.ColorNameError:
		return colError
	case theme.ColorNameFocus:
		return colFocus
	case theme.ColorNameSelection:
		return colSelection
	case theme.ColorNameHover:
		return color.NRGBA{0, 0, 0, 0x22}
	case theme.ColorNamePressed:
		return color.NRGBA{0, 0, 0, 0x44}
	case theme.ColorNameForegroundOnPrimary, theme.ColorNameForegroundOnError,
		theme.ColorNameForegroundOnSuccess, theme.ColorNameForegroundOnWarning:
		return colPaper
	case theme.ColorNameHeaderBackground:
		return colPanel
	case theme.ColorNameShadow:
		return color.NRGBA{0, 0, 0, 0x55}
	}
	return theme.DefaultTheme().Color(n, theme.VariantLight)
}

func (kioskTheme) Font(s fyne.TextStyle) fyne.Resource { return theme.DefaultTheme().Font(s) }

func (kioskTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }

func (kioskTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText:
		return 19
	case theme.SizeNameHeadingText:
		return 30
	case theme.SizeNameSubHeadingText:
		return 23
	case theme.SizeNameCaptionText:
		return 15
	case theme.SizeNamePadding:
		return 6
	case theme.SizeNameInnerPadding:
		return 12
	case theme.SizeNameInlineIcon:
		return 26
	case theme.SizeNameInputBorder:
		return 2
	case theme.SizeNameInputRadius, theme.SizeNameSelectionRadius:
		return 6
	case theme.SizeNameScrollBar:
		return 18
	case theme.SizeNameScrollBarSmall:
		return 8
	case theme.SizeNameSeparatorThickness:
		return 2
	case theme.SizeNameLineSpacing:
		return 5
	}
	return theme.DefaultTheme().Size(n)
}
